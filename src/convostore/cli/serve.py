"""`convostore serve`: run the HTTP server (one uvicorn worker) on the configured databases.

Options override `CONVOSTORE_*` variables, which override the defaults of `Settings`. Before the
server starts, the main database is opened (waiting for it as configured), checked, and handed to
the app, so an unreachable database, a bad URL or an unsafe bind ends with one line, not a
traceback.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Sequence
from typing import Any

import click
import pydantic
import sqlalchemy as sa
import uvicorn

from convostore.auth import DEFAULT_TENANT
from convostore.cli.common import fail, handles_errors
from convostore.cli.demo import describe, has_sessions
from convostore.config import Settings
from convostore.demo import load_demo
from convostore.server import create_app
from convostore.server.context import binds_only_loopback
from convostore.server.read_timeouts import read_timeout_protocol
from convostore.storage import SqlStore, open_configured
from convostore.version import __version__

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@click.command("serve")
@click.option("--host", help="Address to listen on.  [default: 127.0.0.1]")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on.  [default: 8080]")
@click.option(
    "--database",
    "databases",
    multiple=True,
    metavar="URL | NAME=URL",
    help="The main database URL, or a named database (Agno's db_id); repeatable. The first "
    "NAME=URL is the main one when no plain URL is given.",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow a non-loopback bind while no API key exists, and open mode for any Host header.",
)
@click.option("--demo", is_flag=True, help="Load the demo data first if there are no sessions.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), help="uvicorn's log level.")
@handles_errors
def serve_command(
    host: str | None,
    port: int | None,
    databases: Sequence[str],
    insecure: bool,
    demo: bool,
    log_level: str | None,
) -> None:
    """Run the convostore HTTP server (native /v1 API, compatibility APIs, web UI)."""
    settings = build_settings(
        host=host,
        port=port,
        databases=databases,
        insecure=insecure,
        demo=demo,
        log_level=log_level,
    )
    for name, url in settings.databases.items():
        if name != settings.default_database_id:
            open_configured(settings, url).close()  # fail now, in one line, if it is unusable
    store = open_configured(settings, settings.database_url)
    try:
        run(settings, store)
    finally:
        store.close()


def build_settings(*, databases: Sequence[str], **options: Any) -> Settings:
    """`Settings()` from the environment, with the options that were given on top."""
    overrides: dict[str, Any] = {
        name: value for name, value in options.items() if value not in (None, False)
    }
    overrides.update(database_overrides(databases))
    try:
        settings = Settings(**overrides)
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        fail(f"invalid setting {where}: {error['msg']}")
    named_main = settings.databases.get(settings.default_database_id)
    if named_main is not None and named_main != settings.database_url:
        fail(f"--database: {settings.default_database_id!r} already names the main database")
    return settings


def database_overrides(specs: Sequence[str]) -> dict[str, Any]:
    """`URL` sets the main database; `NAME=URL` adds a named one (the first is main if alone)."""
    plain: list[str] = []
    named: dict[str, str] = {}
    for spec in specs:
        name, url = parse_database(spec)
        if name is None:
            plain.append(url)
        elif name in named:
            fail(f"--database: the name {name!r} is given twice")
        else:
            named[name] = url
    if len(plain) > 1:
        fail("--database: give at most one plain URL; name the others as NAME=URL")
    overrides: dict[str, Any] = {}
    if plain:
        overrides["database_url"] = plain[0]
    if named:
        overrides["databases"] = named
        if not plain:
            first = next(iter(named))
            overrides["database_url"] = named[first]
            overrides["default_database_id"] = first
    return overrides


def parse_database(spec: str) -> tuple[str | None, str]:
    """`NAME=URL` when the part before `=` is a plain name; anything else is a URL."""
    name, sep, url = spec.partition("=")
    if sep and _NAME.fullmatch(name):
        if not url:
            fail(f"--database: no URL given for {name!r}")
        return name, url
    if not spec:
        fail("--database: the URL is empty")
    return None, spec


def run(settings: Settings, store: SqlStore) -> None:
    keys_exist = store.has_keys()
    if not keys_exist and not settings.insecure and not binds_only_loopback(settings.host):
        where = settings.host or '"" (every interface)'
        fail(
            f"refusing to listen on {where} with no API key: anyone could read and "
            "write. Create one with `convostore keys create --role admin`, or pass --insecure."
        )
    if settings.demo and not has_sessions(store, DEFAULT_TENANT):
        click.echo(describe(DEFAULT_TENANT, load_demo(store, DEFAULT_TENANT)))
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    where = sa.make_url(settings.database_url).render_as_string(hide_password=True)
    click.echo(f"convostore {__version__} serving {where} at http://{host}:{settings.port}")
    if keys_exist:
        click.echo("API keys are required (Authorization: Bearer <key>).")
    else:
        which = "requests" if settings.insecure else "requests to localhost"
        click.echo(
            f"Open mode: no API key was ever created, so {which} without one act as tenant "
            f"{DEFAULT_TENANT!r}. Create a key with `convostore keys create --role admin` to "
            "require one."
        )
    app = create_app(settings, store=store)
    freeze_start_up()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        workers=1,
        access_log=False,  # convostore writes its own structured access log
        http=(
            read_timeout_protocol(settings.header_timeout_s, settings.body_timeout_s)
            if settings.header_timeout_s > 0
            else "auto"
        ),
    )


def freeze_start_up() -> None:
    """Collect, then move everything start-up made (modules, schemas, routes, the store) out of
    the garbage collector's sight (`gc.freeze`): a full collection walks every tracked object,
    and with start-up's objects in view its pauses showed in the server's tail latency. The
    process owner does this, once, just before serving; an app never touches the collector."""
    gc.collect()
    gc.freeze()
