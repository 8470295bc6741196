"""Values built without validation check themselves against validation, and can be turned off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from convostore.storage import trusted_values


def test_the_installed_pydantic_passes_the_self_check() -> None:
    assert trusted_values.slot_writes_hold()
    assert trusted_values.SLOT_WRITES


READ_BACK = """
import json, sys
from convostore.storage import open_store, trusted_values
from convostore.models import NewMessage, NewSession
from convostore.storage.base import AppendRequest
store = open_store(sys.argv[1])
store.ensure_tenant("t")
store.create_session("t", NewSession(user_id="u", title="hello"), session_id="s1")
store.append("t", AppendRequest(session_id="s1", messages=[
    NewMessage(role="user", content="hi", metrics={"total_tokens": 3})]))
from convostore.models import MessageQuery, SessionQuery
page = store.list_messages("t", "s1", MessageQuery())
sessions = store.list_sessions("t", SessionQuery())
print(json.dumps({
    "slots": trusted_values.SLOT_WRITES,
    "messages": [m.model_dump(mode="json") for m in page.items],
    "sessions": [s.model_dump(mode="json", exclude={"created_at", "updated_at", "last_message_at"})
                 for s in sessions.items],
}))
"""


def _read_back(trusted: str, where: Path) -> dict[str, object]:
    env = {**os.environ, "CONVOSTORE_TRUSTED_VALUES": trusted}
    url = f"sqlite:///{where / f'values-{trusted}.db'}"
    done = subprocess.run(
        [sys.executable, "-c", READ_BACK, url], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_switched_off_every_value_is_validated_and_reads_the_same(tmp_path: Path) -> None:
    on, off = _read_back("1", tmp_path), _read_back("0", tmp_path)
    assert on["slots"] is True and off["slots"] is False
    assert on["sessions"] == off["sessions"]
    messages = on["messages"]
    assert isinstance(messages, list)
    for message in (*messages, *off["messages"]):  # type: ignore[misc]
        message.pop("created_at")
        message.pop("id")
    assert on["messages"] == off["messages"]
