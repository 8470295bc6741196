"""`convostore sessions list|show|search|delete`: browse and prune sessions in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from convostore.cli.common import (
    admin_of,
    cli_store,
    database_option,
    echo_json,
    echo_table,
    format_time,
    handles_errors,
    json_option,
    tenant_option,
)
from convostore.cli.conversation import message_lines, session_header, tokens
from convostore.models import (
    SESSION_TYPES,
    MessageQuery,
    Page,
    Session,
    SessionQuery,
    SessionType,
    SortField,
    SortOrder,
)
from convostore.service import SessionService

F = TypeVar("F", bound=Callable[..., Any])


@click.group("sessions")
def sessions_group() -> None:
    """List, read, search and delete sessions (works on the database directly)."""


def _list_options(func: F) -> F:
    """The filters `list` and `search` share."""
    options = [
        database_option,
        tenant_option,
        click.option("--user-id", help="Only this end user's sessions."),
        click.option("--type", "type_", type=click.Choice(SESSION_TYPES), help="Session type."),
        click.option("--component-id", help="Only sessions of this agent, team or workflow."),
        click.option("--limit", default=20, show_default=True, help="Sessions per page."),
        click.option(
            "--sort",
            type=click.Choice(["updated_at", "created_at", "title"]),
            default="updated_at",
            show_default=True,
        ),
        click.option(
            "--order", type=click.Choice(["asc", "desc"]), default="desc", show_default=True
        ),
        click.option("--after", metavar="CURSOR", help="Continue after a previous page."),
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@sessions_group.command("list")
@_list_options
@click.option("--q", help="Title search: a substring, caseless (Unicode case folding).")
@handles_errors
def list_sessions(**options: Any) -> None:
    """List sessions, most recently updated first."""
    _list(**options)


@sessions_group.command("search")
@click.argument("text")
@_list_options
@handles_errors
def search_sessions(text: str, **options: Any) -> None:
    """Find sessions whose title contains TEXT (same as `list --q TEXT`)."""
    _list(q=text, **options)


def _list(
    *,
    database: str,
    tenant: str,
    user_id: str | None,
    type_: SessionType | None,
    component_id: str | None,
    q: str | None,
    limit: int,
    sort: SortField,
    order: SortOrder,
    after: str | None,
    as_json: bool,
) -> None:
    query = SessionQuery(
        user_id=user_id,
        type=type_,
        component_id=component_id,
        q=q,
        limit=limit,
        sort=sort,
        order=order,
        after=after,
    )
    with cli_store(database) as store:
        page = SessionService(store).list_sessions(admin_of(tenant), query)
    if as_json:
        echo_json(_page_json(page))
        return
    if not page.items:
        click.echo("No sessions found.")
        return
    echo_table(
        ["id", "user", "type", "component", "msgs", "tokens", "updated", "title"],
        [
            [
                s.id,
                s.user_id,
                s.type,
                s.component_id,
                s.message_count,
                tokens(s.metrics).removesuffix(" tokens"),
                format_time(s.updated_at),
                s.title,
            ]
            for s in page.items
        ],
    )
    if page.has_more and page.next_cursor:
        click.echo(f"More: --after {page.next_cursor}")


def _page_json(page: Page[Session]) -> dict[str, Any]:
    return {
        "data": [s.model_dump(mode="json") for s in page.items],
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


@sessions_group.command("show")
@click.argument("session_id")
@click.option(
    "--messages",
    "message_limit",
    default=100,
    show_default=True,
    help="Show at most this many messages (0: none).",
)
@database_option
@tenant_option
@json_option
@handles_errors
def show_session(
    session_id: str, message_limit: int, database: str, tenant: str, as_json: bool
) -> None:
    """Show a session and its conversation: roles, reasoning steps, evidence timestamps."""
    principal = admin_of(tenant)
    with cli_store(database) as store:
        service = SessionService(store)
        session = service.get_session(principal, session_id)
        page = (
            service.messages_of(principal, session, MessageQuery(limit=message_limit))
            if message_limit > 0
            else None
        )
    messages = page.items if page else []
    if as_json:
        echo_json(
            {
                "session": session.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in messages],
                "has_more": page.has_more if page else session.message_count > 0,
            }
        )
        return
    for line in session_header(session):
        click.echo(line)
    for message in messages:
        click.echo("")
        for line in message_lines(message):
            click.echo(line)
    hidden = session.message_count - len(messages)
    if hidden > 0:
        click.echo(f"\n({hidden} more messages; use --messages to show more)")


@sessions_group.command("delete")
@click.argument("session_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@database_option
@tenant_option
@handles_errors
def delete_session(session_id: str, yes: bool, database: str, tenant: str) -> None:
    """Delete a session with its runs and messages."""
    principal = admin_of(tenant)
    with cli_store(database) as store:
        service = SessionService(store)
        session = service.get_session(principal, session_id)
        if not yes:
            click.confirm(
                f"Delete session {session.id} ({session.message_count} messages)?", abort=True
            )
        service.delete_sessions(principal, [session.id])
    click.echo(f"Deleted session {session.id}.")
