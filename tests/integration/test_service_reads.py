"""The service's reads of a session the caller has just read (`messages_of`, `runs_of`,
`all_messages_of`), which skip the store's second existence check, on every backend."""

from __future__ import annotations

import pytest

from convostore.config import Limits
from convostore.errors import NotFound
from convostore.models import MessageQuery, NewMessage, NewRun, NewSession, Principal, RunQuery
from convostore.service import SessionService
from convostore.storage import SqlStore

ADMIN = Principal(tenant_id="t", role="admin")
ALICE = Principal(tenant_id="t", role="write", user_id="alice")


@pytest.fixture
def service(store: SqlStore) -> SessionService:
    return SessionService(store, Limits(max_message_page_size=3))


def _say(service: SessionService, principal: Principal, session_id: str, count: int) -> None:
    messages = [NewMessage(role="user", content=f"m{i}") for i in range(count)]
    service.append_messages(principal, session_id, messages)


def test_all_messages_of_reads_every_page_in_order(service: SessionService) -> None:
    session = service.create_session(ALICE, NewSession(user_id="alice"))
    _say(service, ALICE, session.id, 8)
    read = service.get_session(ALICE, session.id)
    messages = service.all_messages_of(ALICE, read)
    assert [m.seq for m in messages] == list(range(1, 9))
    assert service.messages_of(ALICE, read, MessageQuery(limit=3)) == service.list_messages(
        ALICE, session.id, MessageQuery(limit=3)
    )
    assert service.runs_of(ALICE, read, RunQuery()) == service.list_runs(
        ALICE, session.id, RunQuery()
    )


def test_all_messages_of_some_runs_reads_only_theirs_over_every_page(
    service: SessionService,
) -> None:
    session = service.create_session(ALICE, NewSession(user_id="alice"))
    for run_id, count in (("r1", 4), ("r2", 2), ("r3", 4)):
        messages = [NewMessage(role="user", content=f"{run_id}-{i}") for i in range(count)]
        service.record_run(ALICE, session.id, NewRun(id=run_id, messages=messages))
    read = service.get_session(ALICE, session.id)
    picked = service.all_messages_of(ALICE, read, run_ids=["r1", "r3"])
    assert [m.content for m in picked] == [f"r1-{i}" for i in range(4)] + [
        f"r3-{i}" for i in range(4)
    ]


def test_a_user_scoped_caller_cannot_hand_over_another_users_session(
    service: SessionService,
) -> None:
    bobs = service.create_session(ADMIN, NewSession(user_id="bob"))
    _say(service, ADMIN, bobs.id, 1)
    read_by_admin = service.get_session(ADMIN, bobs.id)
    with pytest.raises(NotFound):
        service.messages_of(ALICE, read_by_admin, MessageQuery())
    with pytest.raises(NotFound):
        service.runs_of(ALICE, read_by_admin, RunQuery())
    with pytest.raises(NotFound):
        service.all_messages_of(ALICE, read_by_admin)
