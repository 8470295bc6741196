"""`convostore import agno DB_URL`: an Agno database's sessions, runs and memories in.

DB_URL is a SQLAlchemy URL of the Agno database, e.g. `sqlite:///agent.db` or
`postgresql+psycopg://user:pw@host/db`. Running the command twice writes nothing new.
"""

from __future__ import annotations

import io
from dataclasses import asdict

import click
import sqlalchemy as sa

from convostore.cli.common import cli_store, database_option, echo_json, handles_errors, json_option
from convostore.config import Limits
from convostore.importers.agno import count_sessions, import_agno, open_source
from convostore.validation import check_id


@click.command("agno")
@click.argument("db_url")
@click.option("--tenant", default="default", show_default=True, help="The tenant to import into.")
@click.option("--batch-size", default=100, show_default=True, help="Sessions per transaction.")
@database_option
@json_option
@handles_errors
def agno(db_url: str, tenant: str, batch_size: int, database: str, as_json: bool) -> None:
    """Import sessions, runs and memories from the Agno database at DB_URL."""
    check_id(tenant, Limits(), "tenant")
    try:
        source = open_source(db_url)
    except (sa.exc.ArgumentError, sa.exc.OperationalError, ModuleNotFoundError) as exc:
        raise ValueError(f"cannot open {db_url!r}: {exc.__class__.__name__}") from None
    try:
        total = count_sessions(source)
        sink = io.StringIO() if as_json else None  # keep --json output pure JSON
        with (
            cli_store(database) as store,
            click.progressbar(length=total, label="importing sessions", file=sink) as bar,
        ):
            report = import_agno(source, store, tenant, batch_size=batch_size, progress=bar.update)
    finally:
        source.engine.dispose()
    if as_json:
        echo_json(asdict(report))
        return
    click.echo(
        f"imported {report.sessions_imported} of {report.sessions_seen} sessions"
        f" ({report.runs} runs, {report.messages} messages) and"
        f" {report.memories_imported} of {report.memories_seen} memories;"
        " the rest already existed"
    )
