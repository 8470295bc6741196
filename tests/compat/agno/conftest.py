"""Fixtures for the Agno AgentOS surface: a session shaped like the reference example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convostore.importers.agno import bundle_from_agno
from convostore.storage import SqlStore

GOLDEN = Path(__file__).parent / "golden"
REFERENCE_ID = "6f6cfbfd-9643-479a-ae47-b8f32eb4d710"
T = 1_757_088_129


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text())


def reference_rows() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `agno_sessions` row and `run_data` an Agno agent stored for the reference session."""
    metrics = {
        "input_tokens": 134,
        "output_tokens": 26,
        "total_tokens": 160,
        "audio_input_tokens": 0,
        "audio_output_tokens": 0,
        "audio_total_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
    }
    answer = (
        "I don't have access to external tools or the internet. However, I can assist you with a"
        " wide range of topics by providing information, answering questions, and offering"
        " suggestions based on the knowledge I've been trained on. If there's anything specific"
        " you need help with, feel free to ask!"
    )
    row = {
        "session_id": REFERENCE_ID,
        "session_type": "agent",
        "agent_id": "basic-agent",
        "user_id": "123",
        "session_data": {"session_state": {}, "session_metrics": metrics},
        "agent_data": {
            "name": "Basic Agent",
            "agent_id": "basic-agent",
            "model": {"provider": "OpenAI", "name": "OpenAIChat", "id": "gpt-4o"},
        },
        "summary": {
            "summary": "The user and assistant engaged in a conversation about the tools the"
            " agent has available.",
            "updated_at": "2025-09-05T18:02:12.269392",
        },
        "metadata": None,
        "created_at": T,
        "updated_at": T,
    }
    usage = {"input_tokens": 134, "output_tokens": 26, "total_tokens": 160}
    run = {
        "run_id": "run-1",
        "agent_id": "basic-agent",
        "session_id": REFERENCE_ID,
        "user_id": "123",
        "content": answer,
        "content_type": "str",
        "status": "COMPLETED",
        "input": {"input_content": "What tools do you have?"},
        "metrics": {**usage, "duration": 1.2, "time_to_first_token": 0.4},
        "messages": [
            {
                "id": "msg-system",
                "content": "You are helpful.",
                "from_history": False,
                "stop_after_tool_call": False,
                "role": "system",
                "created_at": T,
            },
            {
                "id": "msg-user",
                "content": "What tools do you have?",
                "from_history": False,
                "stop_after_tool_call": False,
                "role": "user",
                "created_at": T,
            },
            {
                "id": "msg-assistant",
                "content": answer,
                "from_history": False,
                "stop_after_tool_call": False,
                "role": "assistant",
                "metrics": usage,
                "created_at": T,
            },
        ],
        "created_at": T,
    }
    return row, [run]


@pytest.fixture
def reference_session(store: SqlStore) -> str:
    row, runs = reference_rows()
    store.ensure_tenant("default")
    assert len(store.import_sessions("default", [bundle_from_agno(row, runs)])) == 1
    return REFERENCE_ID
