"""Full-text search over `search_docs`: the index walk, the filters, the hits with snippets.

A search walks the kinds best first (`SEARCH_KINDS`) and, within a kind, the matching documents
newest first (descending id), straight from the full-text index: FTS5 returns rowids in that
order; PostgreSQL either intersects GIN posting lists or walks the (tenant, kind, id) b-tree,
whichever its statistics say is cheaper. The user and source filters are terms of the query
(see `search_index`), so the index does that narrowing; the rest (component, type, time, media
span) are checked on the rows read, a batch at a time. One request reads at most SCAN_BUDGET
candidate rows: a page may then end short with `has_more` and a cursor where the walk stopped,
so paging stays exact and no request runs unbounded.

The order depends only on each document (never on corpus statistics), so a cursor — the kind
and the last id — continues exactly: documents stored meanwhile get higher ids and are not met
again, and none are skipped or repeated.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from convostore.cursors import Cursor, decode_cursor, encode_cursor
from convostore.errors import InvalidRequest
from convostore.ids import from_micros, to_micros
from convostore.models import (
    SEARCH_KINDS,
    Page,
    SearchEvidence,
    SearchHit,
    SearchKind,
    SearchQuery,
)
from convostore.search_text import (
    Clause,
    ScanBudget,
    TextQuery,
    clauses_found,
    matched_spans,
    parse_query,
    snippet,
)
from convostore.storage.search_index import (
    KIND_CODES,
    KIND_LETTERS,
    SOURCE_MARK,
    USER_MARK,
    marker,
    placeholder,
    stored_objects,
    summary_text,
)
from convostore.storage.sql_base import SqlBase
from convostore.storage.stored_json import stored_json
from convostore.storage.trusted_values import trusted

SCAN_BUDGET = 5_000
HYDRATE_CHUNK = 10
# A snippet is cut from the first this many characters of a message's content (up to 1,000,000).
SNIPPET_SOURCE_CHARS = 65_536
_FIRST_BATCH_EXTRA = 1
_MAX_BATCH = 1_000
_NO_ID = 2**62
# Score of a hit: where its words were found (best first); see docs/search.md.
SCORES: dict[str, float] = {
    kind: round(1.0 - 0.1 * rank, 1) for rank, kind in enumerate(SEARCH_KINDS)
}
# a statement and its parameters in, the driver's rows out (`ReadConnections.run`)
Run = Callable[[str, Any], Sequence[Sequence[Any]]]


class Doc(NamedTuple):
    """A matching document, as a search walk reads it."""

    id: int
    session_id: str | None
    seq: int | None
    memory_id: str | None
    user_id: str
    component_id: str | None
    session_type: str | None
    created_at: int


class StoredMessage(NamedTuple):
    session_id: str
    seq: int
    id: str
    role: str
    content: str
    thinkings: str | None
    refs: str | None


class StoredSession(NamedTuple):
    id: str
    title: str | None
    summary: Any


class StoredMemory(NamedTuple):
    id: str
    memory: str
    topics: Any


def fts5_match(words: Sequence[Clause], letter: str, marks: Sequence[str]) -> str:
    """An FTS5 query: each clause a quoted phrase of kind terms (`*` after a prefix), ANDed."""
    parts = []
    for clause in words:
        phrase = '"' + " ".join(letter + w for w in clause.words) + '"'
        parts.append(phrase + " *" if clause.prefix else phrase)
    parts += [f'"{m}"' for m in marks]
    return " AND ".join(parts)


def tsquery(words: Sequence[Clause], letter: str, marks: Sequence[str]) -> str:
    """The same as a PostgreSQL tsquery literal (terms are quoted; none holds a quote)."""
    parts = []
    for clause in words:
        terms = [f"'{letter}{w}'" for w in clause.words]
        if clause.prefix:
            terms[-1] += ":*"
        parts.append(terms[0] if len(terms) == 1 else "(" + " <-> ".join(terms) + ")")
    parts += [f"'{m}'" for m in marks]
    return " & ".join(parts)


class TermStats:
    """How common each term is, from PostgreSQL's statistics of `search_docs.terms` (the most
    common elements ANALYZE found, with their share of the documents), read at most every
    STATS_TTL_S seconds. A term it does not list is taken as 20 times rarer than the rarest it
    lists: its matches are looked up in the GIN index."""

    def __init__(self) -> None:
        self._shares: dict[str, float] | None = None
        self._floor = 0.0
        self._read_at = -STATS_TTL_S

    def density(self, run: Run, terms: list[str]) -> float | None:
        """The expected share of documents holding all `terms` (None: no statistics yet)."""
        now = time.monotonic()
        if now - self._read_at >= STATS_TTL_S:
            self._read_at = now
            found = run(_PG_TERM_STATS, ())
            row = found[0] if found else None
            if row is None or not row[0]:
                self._shares = None
            else:  # the frequencies end with their minimum, maximum and the null share
                self._shares = dict(zip(row[0], row[1], strict=False))
                self._floor = min(row[1][: len(row[0])], default=0.0)
        if self._shares is None:
            return None
        share = 1.0
        for term in terms:
            share *= self._shares.get(term, self._floor / 20)
        return max(share, 1e-12)


class SearchPart(SqlBase):
    @functools.cached_property
    def _term_stats(self) -> TermStats:
        return TermStats()

    def search(self, tenant_id: str, query: SearchQuery) -> Page[SearchHit]:
        text = parse_query(query.q)
        kinds = [k for k in SEARCH_KINDS if query.kinds is None or k in query.kinds]
        if query.source_id is not None:  # only messages cite sources
            kinds = [k for k in kinds if k in ("content", "thinking", "evidence")]
        if query.type is not None:
            kinds = [k for k in kinds if k != "memory"]
        start_kind, before = self._resume(query.after)
        if start_kind is not None:  # a cursor: continue from its kind (none left if not asked)
            kinds = kinds[kinds.index(start_kind) :] if start_kind in kinds else []
        marks = []
        if query.user_id is not None:
            marks.append(marker(USER_MARK, tenant_id, query.user_id))
        source = None
        if query.source_id is not None:
            source = marker(SOURCE_MARK, tenant_id, query.source_id)
            marks.append(source)
        found: list[tuple[str, Doc]] = []
        scanned = 0
        stop: tuple[str, int] | None = None  # where a walk cut short by the budget stopped
        # each statement on the reads' own connections, its own snapshot: a document stored
        # meanwhile has a higher id than any the walk has passed, and a text gone meanwhile
        # gives no hit (see `_hit`)
        run = self._readers.run
        for kind in kinds:
            bound = before if kind == start_kind else _NO_ID
            batch = query.limit + _FIRST_BATCH_EXTRA
            while len(found) <= query.limit:
                if scanned >= SCAN_BUDGET:
                    stop = (kind, bound)
                    break
                batch = min(batch, SCAN_BUDGET - scanned)
                rows = self._candidates(
                    run, tenant_id, kind, text, marks, bound, batch, query.user_id, source
                )
                scanned += len(rows)
                kept = self._filtered(run, tenant_id, query, rows)
                found += [(kind, row) for row in kept]
                if len(rows) < batch:
                    break
                bound = rows[-1].id
                batch = min(batch * 4, _MAX_BATCH)
            if stop is not None or len(found) > query.limit:
                break
        page = found[: query.limit]
        hits = self._hits(run, tenant_id, text, query, page)
        if len(found) > query.limit:
            last_kind, last = page[-1]
            return Page(items=hits, has_more=True, next_cursor=_cursor(last_kind, last.id))
        if stop is not None:  # the budget ran out: continue where the walk stopped
            return Page(items=hits, has_more=True, next_cursor=_cursor(*stop))
        return Page(items=hits, has_more=False)

    # --- the walk --------------------------------------------------------------------------

    @staticmethod
    def _resume(after: str | None) -> tuple[str | None, int]:
        if not after:
            return None, _NO_ID
        cursor = decode_cursor(after, sort="search", order="desc", key_type=int)
        if cursor.id not in SEARCH_KINDS or not isinstance(cursor.key, int) or cursor.key < 0:
            raise InvalidRequest("cursor is malformed", param="after")
        return cursor.id, cursor.key

    def _candidates(
        self,
        run: Run,
        tenant_id: str,
        kind: str,
        text: TextQuery,
        marks: list[str],
        before: int,
        limit: int,
        user_id: str | None = None,
        source: str | None = None,
    ) -> list[Doc]:
        letter = KIND_LETTERS[kind]
        code = KIND_CODES[kind]
        if self.dialect == "postgresql":
            # a source's documents, or a user's, are walked down their own b-tree: the source's
            # or the user's term (`marks`) says nothing of how dense the words are there
            terms = [letter + w for c in text.clauses for w in c.words[: -1 if c.prefix else None]]
            density = self._term_stats.density(run, terms)
            walk = PG_WALK if density is None else int(limit / density) + 1
            scope = "source" if source is not None else "user" if user_id is not None else "kind"
            params = {
                "tenant": tenant_id,
                "user": user_id,
                "source": source,
                "code": code,
                "match": tsquery(text.clauses, letter, marks),
            }
            return _pg_candidates(run, scope, params, before, limit, walk)
        match = fts5_match(text.clauses, letter, marks)
        found = run(_SQLITE_CANDIDATES, (match, -before, tenant_id, code, limit))
        return list(map(Doc._make, found))

    def _filtered(
        self, run: Run, tenant_id: str, query: SearchQuery, rows: Sequence[Doc]
    ) -> list[Doc]:
        after = to_micros(query.created_after) if query.created_after else None
        before = to_micros(query.created_before) if query.created_before else None
        kept = [
            row
            for row in rows
            if (query.user_id is None or row.user_id == query.user_id)
            and (query.component_id is None or row.component_id == query.component_id)
            and (query.type is None or row.session_type == query.type)
            and (after is None or row.created_at >= after)
            and (before is None or row.created_at <= before)
        ]
        if query.source_id is None or not kept:
            return kept
        cited = self._cited_in_span(run, tenant_id, query, kept)
        return [row for row in kept if (row.session_id, row.seq) in cited]

    def _cited_in_span(
        self, run: Run, tenant_id: str, query: SearchQuery, rows: Sequence[Doc]
    ) -> set[tuple[str, int]]:
        """Which of these messages cite the source, with a span overlapping the query's."""
        tail, after = "", []
        if query.start is not None:
            tail += " AND end_max >= ?"
            after.append(query.start)
        if query.end is not None:
            tail += " AND start_min <= ?"
            after.append(query.end)
        found = _by_keys(
            run,
            placeholder(self.dialect),
            "SELECT session_id, seq FROM evidence",
            tenant_id,
            {(r.session_id, r.seq) for r in rows if r.session_id is not None and r.seq is not None},
            also=" AND source_id = ?",
            binds=[query.source_id],
            tail=tail,
            after=after,
        )
        return {(r[0], r[1]) for r in found}

    # --- hits ------------------------------------------------------------------------------

    def _hits(
        self,
        run: Run,
        tenant_id: str,
        text: TextQuery,
        query: SearchQuery,
        page: list[tuple[str, Doc]],
    ) -> list[SearchHit]:
        """The hits of a page, their texts read HYDRATE_CHUNK documents at a time: a message's
        reasoning or evidence may be a megabyte of JSON, and a page holds up to 100 hits."""
        hits = []
        budget = ScanBudget()
        for at in range(0, len(page), HYDRATE_CHUNK):
            chunk = page[at : at + HYDRATE_CHUNK]
            keys = {
                (row.session_id, row.seq)
                for _, row in chunk
                if row.session_id is not None and row.seq is not None
            }
            session_ids = {row.session_id for _, row in chunk if row.session_id is not None}
            memory_ids = {row.memory_id for _, row in chunk if row.memory_id is not None}
            mark = placeholder(self.dialect)
            stored = _messages(run, mark, tenant_id, keys)
            held = _by_ids(
                run, mark, "sessions", tenant_id, session_ids,
                "title, CAST(summary AS TEXT)", StoredSession._make,
            )  # fmt: skip
            facts = _by_ids(
                run, mark, "memories", tenant_id, memory_ids,
                "memory, CAST(topics AS TEXT)", StoredMemory._make,
            )  # fmt: skip
            for kind, row in chunk:
                hit = _hit(kind, row, text, query, stored, held, facts, budget)
                if hit is not None:
                    hits.append(hit)
        return hits


# One kind's matching documents, newest first: FTS5 numbers a document by its id negated, and
# reads posting lists lazily in ascending order only (migration 0007). Sent to the driver as it
# is (a search runs up to six of them).
_SQLITE_CANDIDATES = (
    "SELECT d.id, d.session_id, d.seq, d.memory_id, d.user_id, d.component_id,"
    " d.session_type, d.created_at"
    " FROM search_fts CROSS JOIN search_docs d ON d.id = -search_fts.rowid"
    " WHERE search_fts MATCH ? AND search_fts.rowid > ?"
    " AND d.tenant_id = ? AND d.kind = ?"
    " ORDER BY search_fts.rowid LIMIT ?"
)
_PG_COLUMNS = "id, session_id, seq, memory_id, user_id, component_id, session_type, created_at"
# PostgreSQL, step 1: the newest `walk` documents of the scope, those matching kept (the
# subquery's LIMIT keeps the walk from going further). A scope is a kind's documents, read down
# the (tenant, kind, id) b-tree; a user's of a kind, down (tenant, user, kind, id); or those
# citing a source, down `search_sources` (tenant, source, id; migration 0007), of any kind: the
# kind is checked with the words.
_PG_SCOPES = {
    "kind": "tenant_id = %(tenant)s AND kind = %(code)s",
    "user": "tenant_id = %(tenant)s AND user_id = %(user)s AND kind = %(code)s",
}
_PG_NEWEST = {
    **{
        scope: f"SELECT id FROM search_docs WHERE {where} AND id < %(before)s"
        " ORDER BY id DESC LIMIT %(walk)s"
        for scope, where in _PG_SCOPES.items()
    },
    "source": "SELECT doc_id AS id FROM search_sources WHERE tenant_id = %(tenant)s"
    " AND source = %(source)s AND doc_id < %(before)s ORDER BY doc_id DESC LIMIT %(walk)s",
}
_PG_WALK = {
    **{
        scope: f"SELECT {_PG_COLUMNS} FROM (SELECT {_PG_COLUMNS}, terms FROM search_docs"
        f" WHERE {where} AND id < %(before)s ORDER BY id DESC LIMIT %(walk)s) AS newest"
        " WHERE terms @@ CAST(%(match)s AS tsquery) ORDER BY id DESC LIMIT %(limit)s"
        for scope, where in _PG_SCOPES.items()
    },
    "source": f"SELECT {', '.join('d.' + c for c in _PG_COLUMNS.split(', '))}"
    f" FROM ({_PG_NEWEST['source']}) AS newest JOIN search_docs AS d ON d.id = newest.id"
    " WHERE d.kind = %(code)s AND d.terms @@ CAST(%(match)s AS tsquery)"
    " ORDER BY d.id DESC LIMIT %(limit)s",
}
_PG_WALKED_TO = {
    scope: f"SELECT min(id), count(*) FROM ({newest}) AS newest"
    for scope, newest in _PG_NEWEST.items()
}
# step 2, when the walk found less than a page: the words are rare there, so the rest comes
# from the GIN index (ordering by `id + 0` leaves the planner no b-tree walk to pick instead);
# a source's term is in the query itself
_PG_LOOKUP = {
    scope: f"SELECT {_PG_COLUMNS} FROM search_docs WHERE tenant_id = %(tenant)s"
    + (" AND user_id = %(user)s" if scope == "user" else "")
    + " AND kind = %(code)s AND terms @@ CAST(%(match)s AS tsquery) AND id < %(before)s"
    " ORDER BY id + 0 DESC LIMIT %(limit)s"
    for scope in _PG_NEWEST
}
_PG_TERM_STATS = (
    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
    " WHERE schemaname = current_schema() AND tablename = 'search_docs' AND attname = 'terms'"
)
PG_WALK = 2_000  # the walk without statistics
PG_WALK_MAX = 20_000  # the longest walk statistics may ask for; a rarer match goes to GIN
STATS_TTL_S = 300.0


def _pg_candidates(
    run: Run,
    scope: str,
    params: dict[str, Any],
    before: int,
    limit: int,
    walk: int = PG_WALK,
) -> list[Doc]:
    """One kind's matching documents below `before`, newest first, on PostgreSQL; `scope` says
    which documents a walk goes through (see _PG_NEWEST), `params` has the tenant, the kind's
    code, the user and source (or None) and the tsquery (`match`).

    A common word fills a page within the newest few documents, which a walk down the b-tree
    finds at once; a rare one is looked up in the GIN index, whose every match is then sorted.
    The planner cannot tell the two apart for words its statistics do not list (any word new
    since the last ANALYZE, or rarer than its sample), and picking the walk for a rare word
    reads the whole kind: so convostore walks a bounded stretch itself (`walk` documents: as
    many as the terms' statistics say a page needs, up to PG_WALK_MAX; none for a match rarer
    than that), then asks the index.

    Each statement is its own snapshot: documents stored between the walk and the look-up may
    move the walk's end up, so the look-up's matches that the walk already found are dropped.
    """
    if walk > PG_WALK_MAX:  # rare: straight to the index
        lookup = {**params, "before": before, "limit": limit}
        return list(map(Doc._make, run(_PG_LOOKUP[scope], lookup)))
    walked = {**params, "before": before, "walk": walk, "limit": limit}
    found = list(map(Doc._make, run(_PG_WALK[scope], walked)))
    if len(found) >= limit:
        return found
    walked_to, count = run(_PG_WALKED_TO[scope], walked)[0]
    if count < walk:  # the walk reached the scope's oldest document
        return found
    seen = {doc.id for doc in found}
    lookup = {**params, "before": walked_to, "limit": limit - len(found) + len(seen)}
    fresh = [Doc._make(row) for row in run(_PG_LOOKUP[scope], lookup) if row[0] not in seen]
    return [*found, *fresh[: limit - len(found)]]


def _cursor(kind: str, doc_id: int) -> str:
    return encode_cursor(Cursor(sort="search", order="desc", key=doc_id, id=kind))


def _by_keys(
    run: Run,
    mark: str,
    head: str,
    tenant_id: str,
    keys: set[tuple[str, int]],
    *,
    also: str = "",
    tail: str = "",
    binds: Sequence[Any] = (),
    after: Sequence[Any] = (),
) -> Sequence[Any]:
    """Rows of `head` (a SELECT ... FROM) at these `(session_id, seq)` keys of one tenant.

    Written as an OR of `tenant AND session AND seq IN (...)`, one per session, so both backends
    look each up in their (tenant, session, seq) index: SQLite scans the table for a row-value
    IN, or for an OR under a shared tenant term. Sent to the driver as it is: the statement's
    shape changes with every page, and building it through SQLAlchemy cost more than the reads.
    """
    by_session: dict[str, list[int]] = {}
    for session, number in sorted(keys):
        by_session.setdefault(session, []).append(number)
    terms, params = [], []
    for session, numbers in by_session.items():
        terms.append(
            f"(tenant_id = {mark}{also.replace('?', mark)} AND session_id = {mark}"
            f" AND seq IN ({', '.join([mark] * len(numbers))}))"
        )
        params += [tenant_id, *binds, session, *numbers]
    sql = f"{head} WHERE ({' OR '.join(terms)}){tail.replace('?', mark)}"
    return run(sql, (*params, *after))


def _messages(
    run: Run, mark: str, tenant_id: str, keys: set[tuple[str, int]]
) -> dict[tuple[str, int], StoredMessage]:
    if not keys:
        return {}
    head = (
        f"SELECT session_id, seq, id, role, substr(content, 1, {SNIPPET_SOURCE_CHARS}),"
        " CAST(thinkings AS TEXT), CAST(refs AS TEXT) FROM messages"
    )
    found = map(StoredMessage._make, _by_keys(run, mark, head, tenant_id, keys))
    return {(m.session_id, m.seq): m for m in found}


def _by_ids(
    run: Run,
    mark: str,
    table: str,
    tenant_id: str,
    ids: set[str],
    columns: str,
    make: Callable[[Sequence[Any]], Any],
) -> dict[str, Any]:
    """Rows (`id, columns`, JSON as its stored text) of these ids of one tenant, by id."""
    if not ids:
        return {}
    sql = (
        f"SELECT id, {columns} FROM {table}"
        f" WHERE tenant_id = {mark} AND id IN ({', '.join([mark] * len(ids))})"
    )
    return {r[0]: make(r) for r in run(sql, (tenant_id, *sorted(ids)))}


def _json(value: Any) -> Any:
    return stored_json(value) if isinstance(value, str) else value


def _hit(
    kind: SearchKind | str,
    row: Doc,
    text: TextQuery,
    query: SearchQuery,
    stored: dict[tuple[str, int], StoredMessage],
    held: dict[str, StoredSession],
    facts: dict[str, StoredMemory],
    budget: ScanBudget,
) -> SearchHit | None:
    """The hit of one document, its snippet cut from the text as stored (None: the text went
    between the walk and this read). Decoding a message's reasoning or evidence counts against
    the page's `budget` too (either may be a megabyte of JSON)."""
    session = held.get(row.session_id) if row.session_id is not None else None
    fields: dict[str, Any] = {
        "kind": kind,
        "session_id": row.session_id,
        "session_title": session.title if session is not None else None,
        "user_id": row.user_id,
        "created_at": from_micros(row.created_at),
        "score": SCORES[kind],
    }
    evidence_hit: SearchEvidence | None = None
    if kind == "memory":
        fact = facts.get(row.memory_id) if row.memory_id is not None else None
        if fact is None:
            return None
        source = "\n".join([fact.memory, *(_json(fact.topics) or ())])
        fields["memory_id"] = row.memory_id
    elif kind in ("title", "summary"):
        if session is None or (kind == "title" and not session.title):
            return None
        source = session.title or "" if kind == "title" else summary_text(_json(session.summary))
    else:
        message = None
        if row.session_id is not None and row.seq is not None:
            message = stored.get((row.session_id, row.seq))
        if message is None:
            return None
        fields.update(seq=row.seq, message_id=message.id, role=message.role)
        if kind == "content":
            source = message.content
        elif kind == "thinking":
            steps = _decoded(message.thinkings, budget)
            source = _best(text, [_step(t) for t in steps], budget)
        else:
            source, evidence_hit = _cited_item(text, query, _decoded(message.refs, budget), budget)
    spans = matched_spans(source, text, budget=budget)
    # every field comes from a stored value or was built here: no need to validate them again
    return trusted(SearchHit, {**_NO_HIT_FIELDS, **fields, "snippet": snippet(source, spans),
                               "evidence": evidence_hit})  # fmt: skip


def _decoded(stored: str | None, budget: ScanBudget) -> list[dict[str, Any]]:
    """A message's stored reasoning or evidence, or nothing once the page's budget is spent."""
    if not stored or not budget.take(len(stored) // 64 + 1):
        return []
    return stored_objects(stored)


_NO_HIT_FIELDS: dict[str, Any] = {"seq": None, "message_id": None, "role": None, "memory_id": None}


def _step(thinking: dict[str, Any]) -> str:
    return f"{thinking.get('title') or ''}\n{thinking.get('content') or ''}".strip()


def _best(text: TextQuery, parts: list[str], budget: ScanBudget) -> str:
    """The part holding most of the query's clauses (the first of equals)."""
    if not parts:
        return ""
    return max(parts, key=lambda part: clauses_found(part, text, budget))


def _cited_item(
    text: TextQuery, query: SearchQuery, refs: list[dict[str, Any]], budget: ScanBudget
) -> tuple[str, SearchEvidence | None]:
    """The cited item whose text holds most of the query (within the query's source and span,
    when it has them): its text, and where it is in its source."""
    best: tuple[int, str, SearchEvidence | None] = (-1, "", None)
    for ref in refs:
        source = ref.get("source") or {}
        if query.source_id is not None and source.get("id") != query.source_id:
            continue
        candidates: list[tuple[str, dict[str, Any] | None]] = [
            (item.get("text") or "", item)
            for item in ref.get("items") or ()
            if isinstance(item, dict)
        ]
        if source.get("name"):
            candidates.append((source["name"], None))
        for content, item in candidates:
            if item is not None and not _overlaps(item, query):
                continue
            found = clauses_found(content, text, budget) if content else 0
            if found > best[0]:
                where = None
                first = item or next(iter(ref.get("items") or ()), None)
                if first is not None and isinstance(first.get("start"), int | float):
                    where = SearchEvidence(
                        source_id=source.get("id", ""),
                        source_kind=source.get("kind", "video"),
                        item_kind=first.get("kind", ""),
                        start=first["start"],
                        end=first.get("end"),
                    )
                best = (found, content, where)
    return best[1], best[2]


def _overlaps(item: dict[str, Any], query: SearchQuery) -> bool:
    start = item.get("start")
    if not isinstance(start, int | float) or not math.isfinite(start):
        return query.start is None and query.end is None
    end = item.get("end")
    end = start if not isinstance(end, int | float) or not math.isfinite(end) else end
    if query.start is not None and end < query.start:
        return False
    return not (query.end is not None and start > query.end)
