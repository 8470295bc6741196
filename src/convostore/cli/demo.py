"""`convostore demo`: load realistic sample sessions, so a fresh install has something to show."""

from __future__ import annotations

import click

from convostore.cli.common import (
    admin_of,
    cli_store,
    database_option,
    echo_json,
    handles_errors,
    json_option,
    tenant_option,
)
from convostore.demo import DEFAULT_SESSIONS, DemoLoad, load_demo
from convostore.models import SessionQuery
from convostore.service import SessionService
from convostore.storage.base import Store


@click.command("demo")
@database_option
@tenant_option
@click.option(
    "--sessions",
    "count",
    type=click.IntRange(0, 10_000),
    default=DEFAULT_SESSIONS,
    show_default=True,
    help="How many sample sessions.",
)
@click.option("--if-empty", is_flag=True, help="Load only if the tenant has no sessions yet.")
@json_option
@handles_errors
def demo_command(database: str, tenant: str, count: int, if_empty: bool, as_json: bool) -> None:
    """Load sample video-chat, agent, team and workflow sessions (safe to run again)."""
    with cli_store(database) as store:
        if if_empty and has_sessions(store, tenant):
            loaded = None
        else:
            loaded = load_demo(store, tenant, sessions=count)
    if as_json:
        echo_json(_json(tenant, loaded))
    else:
        click.echo(describe(tenant, loaded))


def has_sessions(store: Store, tenant: str) -> bool:
    page = SessionService(store).list_sessions(admin_of(tenant), SessionQuery(limit=1))
    return bool(page.items)


def describe(tenant: str, loaded: DemoLoad | None) -> str:
    """One line for people."""
    if loaded is None:
        return f"Tenant {tenant!r} already has sessions; no demo data loaded."
    if not loaded.sessions and not loaded.memories:
        return (
            f"The demo data is already in tenant {tenant!r} ({loaded.skipped_sessions} sessions,"
            f" {loaded.skipped_memories} memories); nothing to load."
        )
    line = (
        f"Loaded {loaded.sessions} demo sessions ({loaded.messages} messages, {loaded.runs} runs)"
        f" and {loaded.memories} memories into tenant {tenant!r}"
    )
    if loaded.skipped_sessions or loaded.skipped_memories:
        line += (
            f"; {loaded.skipped_sessions} sessions and {loaded.skipped_memories} memories"
            " were already there"
        )
    return line + "."


def _json(tenant: str, loaded: DemoLoad | None) -> dict[str, object]:
    if loaded is None:
        return {"tenant": tenant, "loaded": False, "sessions": 0, "messages": 0, "memories": 0}
    return {
        "tenant": tenant,
        "loaded": True,
        "sessions": loaded.sessions,
        "messages": loaded.messages,
        "runs": loaded.runs,
        "memories": loaded.memories,
        "skipped_sessions": loaded.skipped_sessions,
        "skipped_memories": loaded.skipped_memories,
    }
