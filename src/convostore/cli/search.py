"""`convostore search QUERY`: full-text search of what was said, reasoned and cited.

Like `sessions`, it works on the database directly through the service, so it needs no server.
`--json` prints a page as `GET /v1/search` answers it; otherwise each result is a short block
whose snippet, HTML on the wire (`<mark>`ed words, everything else escaped), is turned back into
plain text with the matched words in bold.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import click

from convostore.cli.common import (
    admin_of,
    cli_store,
    database_option,
    echo_json,
    format_time,
    handles_errors,
    json_option,
    tenant_option,
)
from convostore.cli.conversation import timestamp
from convostore.models import (
    SEARCH_KINDS,
    SESSION_TYPES,
    SearchHit,
    SearchKind,
    SearchQuery,
    SessionType,
)
from convostore.server.native.schemas import search_result_json
from convostore.service import SessionService

MARKED = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO 8601 date or date and time (`2026-12-03`, `2026-12-03T10:00:00+01:00`); naive
    values are taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _kinds(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[SearchKind] | None:
    """`--kind` is repeatable and takes comma-separated lists too; none given: every kind."""
    kinds: list[SearchKind] = []
    for value in values:
        for name in filter(None, (part.strip() for part in value.split(","))):
            kind = next((k for k in SEARCH_KINDS if k == name), None)
            if kind is None:
                raise click.BadParameter(f"{name!r} is not one of {', '.join(SEARCH_KINDS)}")
            if kind not in kinds:
                kinds.append(kind)
    return kinds or None


@click.command("search")
@click.argument("text", metavar="QUERY")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    callback=_kinds,
    metavar="KIND[,KIND]",
    help=f"Only these kinds of hit (repeatable): {', '.join(SEARCH_KINDS)}.",
)
@click.option("--user-id", "--user", "user_id", help="Only this end user's data.")
@click.option(
    "--component-id",
    "--component",
    "component_id",
    help="Only sessions and memories of this agent, team or workflow.",
)
@click.option(
    "--type",
    "type_",
    type=click.Choice(SESSION_TYPES),
    help="Only sessions of this type (leaves memories out).",
)
@click.option(
    "--created-after",
    metavar="DATETIME",
    callback=_moment,
    help="Only hits created at or after this (ISO 8601; naive is UTC).",
)
@click.option(
    "--created-before",
    metavar="DATETIME",
    callback=_moment,
    help="Only hits created at or before this (ISO 8601; naive is UTC).",
)
@click.option(
    "--source-id",
    "--source",
    "source_id",
    help="Only messages that cite this source (a video id, say).",
)
@click.option(
    "--start", type=float, help="With --source-id: only citations ending at or after this second."
)
@click.option(
    "--end", type=float, help="With --source-id: only citations starting at or before this second."
)
@click.option("--limit", default=20, show_default=True, help="Results per page.")
@click.option("--after", metavar="CURSOR", help="Continue after a previous page.")
@click.option("--all", "follow", is_flag=True, help="Follow the cursor to the last result.")
@database_option
@tenant_option
@json_option
@handles_errors
def search_command(
    text: str,
    kinds: list[SearchKind] | None,
    user_id: str | None,
    component_id: str | None,
    type_: SessionType | None,
    created_after: datetime | None,
    created_before: datetime | None,
    source_id: str | None,
    start: float | None,
    end: float | None,
    limit: int,
    after: str | None,
    follow: bool,
    database: str,
    tenant: str,
    as_json: bool,
) -> None:
    """Find QUERY in titles, summaries, memories, messages, reasoning and cited text.

    Words are ANDed, "a quoted phrase" matches adjacent words, word* matches a prefix; case
    and accents do not matter. Best matches first.
    """
    query = SearchQuery(
        q=text,
        kinds=kinds,
        user_id=user_id,
        component_id=component_id,
        type=type_,
        created_after=created_after,
        created_before=created_before,
        source_id=source_id,
        start=start,
        end=end,
        limit=limit,
        after=after,
    )
    principal = admin_of(tenant)
    with cli_store(database) as store:
        service = SessionService(store)
        page = service.search(principal, query)
        hits = list(page.items)
        while follow and page.has_more and page.next_cursor:
            page = service.search(principal, query.model_copy(update={"after": page.next_cursor}))
            hits.extend(page.items)
    if as_json:
        echo_json(
            {
                "object": "list",
                "data": [search_result_json(hit) for hit in hits],
                "has_more": page.has_more,
                "next_cursor": page.next_cursor,
            }
        )
        return
    if not hits:
        click.echo("No results.")
    for index, hit in enumerate(hits):
        if index:
            click.echo("")
        for line in hit_lines(hit):
            click.echo(line)
    if page.has_more and page.next_cursor:
        click.echo(f"\nMore: --after {page.next_cursor}")


def hit_lines(hit: SearchHit) -> list[str]:
    """A hit for people: what matched and where, when, then the snippet."""
    if hit.session_id is None:
        where = f"memory {hit.memory_id}"
    else:
        where = f"session {hit.session_id}"
        if hit.seq is not None:
            where += f" #{hit.seq}" + (f" {hit.role}" if hit.role else "")
    details = [where, f"user {hit.user_id}", f"{format_time(hit.created_at, seconds=True)} UTC"]
    lines = [f"[{hit.kind}] " + " · ".join(details)]
    if hit.session_title and hit.kind != "title":
        lines.append(f"  in: {' '.join(hit.session_title.split())}")
    if hit.evidence is not None:
        cited = hit.evidence
        span = timestamp(cited.start)
        if cited.end is not None and cited.end != cited.start:
            span += f"-{timestamp(cited.end)}"
        lines.append(f"  cites: {cited.source_kind} {cited.source_id} {cited.item_kind} {span}")
    lines.append("  " + plain_snippet(hit.snippet, bold=True))
    return lines


def plain_snippet(snippet: str, *, bold: bool = False) -> str:
    """The snippet's HTML as one line of text: marks dropped (or made bold), entities decoded.

    The server escapes everything but its own `<mark>` tags, so splitting on those first is
    exact: text that itself read `<mark>` arrives as `&lt;mark&gt;` and stays text.
    """
    parts = MARKED.split(snippet)
    out = []
    for index, part in enumerate(parts):
        text = re.sub(r"\s+", " ", html.unescape(part))
        out.append(click.style(text, bold=True) if bold and index % 2 else text)
    return "".join(out).strip()
