"""`convostore import memories-ai FILE... --unique-id ID`: saved memories.ai sessions in.

Each FILE holds saved `get_session_detail` responses: one JSON value (a response, its data object,
a list of them, or a `{"list": ..., "details": [...]}` bundle) or JSON Lines with one per line.
Running the command twice writes nothing new.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from convostore.cli.common import (
    cli_store,
    database_option,
    echo_json,
    handles_errors,
    json_option,
)
from convostore.config import Limits
from convostore.importers.memories_ai import import_documents
from convostore.models import Principal
from convostore.service import SessionService
from convostore.validation import check_id


def read_file(path: Path) -> Any:
    """The JSON value in `path`, or the list of values of a JSON Lines file."""
    raw = path.read_bytes()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as whole_error:
        values = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                values.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                if number == 1:
                    raise ValueError(f"{path}: not JSON ({whole_error})") from None
                raise ValueError(f"{path}, line {number}: not JSON") from None
        return values


@click.command("memories-ai")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--unique-id",
    default="default",
    show_default=True,
    help="The memories.ai unique_id (end user) to file the sessions under.",
)
@click.option("--tenant", default="default", show_default=True, help="The tenant to import into.")
@click.option(
    "--replace", is_flag=True, help="Overwrite sessions that already exist instead of skipping."
)
@database_option
@json_option
@handles_errors
def memories_ai(
    files: tuple[Path, ...],
    unique_id: str,
    tenant: str,
    replace: bool,
    database: str,
    as_json: bool,
) -> None:
    """Import saved memories.ai get_session_detail responses from FILE..."""
    limits = Limits()
    check_id(tenant, limits, "tenant")
    documents = [read_file(path) for path in files]
    with cli_store(database) as store:
        result = import_documents(
            SessionService(store, limits),
            Principal(tenant_id=tenant, role="admin"),  # the operator, for the tenant
            unique_id,
            documents,
            on_conflict="replace" if replace else "skip",
        )
    if as_json:
        echo_json({"unique_id": unique_id, **result.as_json()})
        return
    click.echo(
        f"imported {result.imported} of {result.sessions} sessions ({result.messages} messages)"
        f" for unique_id {unique_id!r}; {result.skipped} skipped (already present or repeated)"
    )
    if result.missing_details:
        shown = ", ".join(result.missing_details[:5])
        more = "" if len(result.missing_details) <= 5 else ", ..."
        click.echo(
            f"warning: {len(result.missing_details)} listed sessions had no detail and were not"
            f" imported: {shown}{more}",
            err=True,
        )
