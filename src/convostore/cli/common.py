"""What every command shares: the database option, output as tables or JSON, one-line errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
import orjson
import sqlalchemy as sa

from convostore.auth import DEFAULT_TENANT
from convostore.config import DEFAULT_DATABASE_URL
from convostore.errors import ConvostoreError
from convostore.models import Principal
from convostore.storage import SqlStore, open_store

P = ParamSpec("P")
R = TypeVar("R")

database_option = click.option(
    "--database",
    "database",
    envvar="CONVOSTORE_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="Database URL (or set CONVOSTORE_DATABASE_URL).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
tenant_option = click.option(
    "--tenant",
    default=DEFAULT_TENANT,
    show_default=True,
    help="The tenant to act in (open mode uses 'default').",
)


def admin_of(tenant: str) -> Principal:
    """The CLI works on the database directly, with full rights inside one tenant."""
    return Principal(tenant_id=tenant, role="admin")


@contextmanager
def cli_store(url: str, *, migrate: bool = True, connect_retries: int = 0) -> Iterator[SqlStore]:
    """Open the configured database directly (no server needed), migrated to the newest schema."""
    store = open_store(url, migrate=migrate, connect_retries=connect_retries)
    try:
        yield store
    finally:
        store.close()


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr and a non-zero exit: how every user mistake ends."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """User mistakes and unreachable databases become one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConvostoreError as exc:
            fail(exc.message)
        except sa.exc.ArgumentError as exc:  # an unparseable URL or an unknown dialect
            fail(f"invalid database URL: {_first_line(exc)}")
        except ModuleNotFoundError as exc:  # a URL naming a driver that is not installed
            fail(f"the Python module {exc.name!r} this needs is not installed")
        except sa.exc.OperationalError as exc:  # the database went away mid-command
            fail(f"database error: {_first_line(getattr(exc, 'orig', None) or exc)}")
        except ValueError as exc:
            fail(str(exc))

    return wrapper


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__


def echo_json(value: Any) -> None:
    """`value` as indented JSON, timestamps as the HTTP API writes them (UTC with a `Z`)."""
    options = orjson.OPT_INDENT_2 | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
    click.echo(orjson.dumps(value, option=options, default=str).decode())


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table for people; cells are cut to keep one row per line."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    line = "  ".join(h.upper().ljust(widths[i]) for i, h in enumerate(headers))
    click.echo(line.rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip())


def _cell(value: Any, width: int = 48) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_time(value: datetime | None, *, seconds: bool = False) -> str:
    """A UTC timestamp short enough for a table cell."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
