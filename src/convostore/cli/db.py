"""`convostore db migrate|status`: prepare a database without starting a server."""

from __future__ import annotations

import sys
from typing import Any

import click

from convostore.cli.common import cli_store, database_option, echo_json, handles_errors, json_option
from convostore.storage.migrate import current_revision, head_revision


@click.group("db")
def db_group() -> None:
    """Database schema: migrate to the newest revision, or show where it stands."""


@db_group.command("migrate")
@database_option
@json_option
@handles_errors
def migrate(database: str, as_json: bool) -> None:
    """Bring the database to the newest schema (safe to run again)."""
    with cli_store(database, migrate=False) as store:
        before = current_revision(store.engine)
        with MigrationProgress(quiet=as_json) as progress:
            after = store.migrate(progress=progress)
    if as_json:
        echo_json({"previous": before, "revision": after})
    elif before == after:
        click.echo(f"Database already at revision {after}.")
    else:
        click.echo(f"Database migrated from {before or 'empty'} to revision {after}.")


class MigrationProgress:
    """A progress bar on stderr for a migration that goes through stored data (indexing every
    session and memory for search); drawn only once such a migration reports."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if not sys.stderr.isatty():  # a log: a line at every tenth of the way
            if done * 10 // max(total, 1) > self.done * 10 // max(total, 1) or not self.done:
                click.echo(
                    f"Indexing for search: {done:,} of {total:,} sessions and memories", err=True
                )
            self.done = done
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=max(total, 1),
                label="Indexing sessions and memories for search",
                file=sys.stderr,
                show_pos=True,
                show_eta=True,
            )
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def __enter__(self) -> MigrationProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@db_group.command("status")
@database_option
@json_option
@handles_errors
def status(database: str, as_json: bool) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    with cli_store(database, migrate=False) as store:
        current = current_revision(store.engine)
    head = head_revision()
    if as_json:
        echo_json({"current": current, "head": head, "up_to_date": current == head})
        return
    click.echo(f"current  {current or '(empty database)'}")
    click.echo(f"head     {head}")
    click.echo("up to date" if current == head else "run `convostore db migrate` to upgrade")
