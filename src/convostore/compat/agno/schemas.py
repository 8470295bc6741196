"""Request bodies of the Agno routes, with AgentOS's field names and constraints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from convostore.models import SessionType


class CreateSessionRequest(BaseModel):
    session_id: str | None = None
    session_name: str | None = None
    session_state: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    user_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    workflow_id: str | None = None


class UpdateSessionRequest(BaseModel):
    session_name: str | None = None
    session_state: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None


class DeleteSessionRequest(BaseModel):
    session_ids: list[str] = Field(min_length=1)
    session_types: list[SessionType] = Field(min_length=1)


class UserMemoryCreateSchema(BaseModel):
    memory: str = Field(min_length=1, max_length=5000)
    user_id: str | None = None
    topics: list[str] | None = None


class DeleteMemoriesRequest(BaseModel):
    memory_ids: list[str] = Field(min_length=1)
    user_id: str | None = None
