"""The SQL store: one implementation for SQLite and PostgreSQL, assembled from its parts."""

from __future__ import annotations

from convostore.storage.sql_appends import AppendsPart
from convostore.storage.sql_components import ComponentsPart
from convostore.storage.sql_evidence import EvidencePart
from convostore.storage.sql_keys import KeysPart
from convostore.storage.sql_memories import MemoriesPart
from convostore.storage.sql_messages import MessagesPart
from convostore.storage.sql_runs import RunsPart
from convostore.storage.sql_search import SearchPart
from convostore.storage.sql_sessions import SessionsPart


class SqlStore(
    SessionsPart,
    AppendsPart,
    MessagesPart,
    RunsPart,
    EvidencePart,
    MemoriesPart,
    KeysPart,
    ComponentsPart,
    SearchPart,
):
    """Implements `convostore.storage.base.Store` on a SQLAlchemy engine."""
