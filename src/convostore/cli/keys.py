"""`convostore keys create|list|revoke|erase-all`: API keys, managed on the database directly.

A new key's secret is printed once. Without `--json` the key alone goes to stdout and the notes
to stderr, so `KEY=$(convostore keys create --role admin)` captures just the key.

Revoked keys are kept, so revoking every key never returns a server to open mode; `erase-all`
does, deliberately, for whoever can reach the database (see `convostore.auth`).
"""

from __future__ import annotations

import click

from convostore.auth import KeyService
from convostore.cli.common import (
    cli_store,
    database_option,
    echo_json,
    echo_table,
    fail,
    format_time,
    handles_errors,
    json_option,
    tenant_option,
)
from convostore.models import KEY_ROLES


@click.group("keys")
def keys_group() -> None:
    """Create, list and revoke API keys. A key belongs to one tenant and has a role."""


@keys_group.command("create")
@tenant_option
@click.option("--role", type=click.Choice(KEY_ROLES), required=True, help="What the key may do.")
@click.option("--user-id", help="Confine the key to one end user (safe for a browser).")
@click.option("--name", help="A label to recognise the key by.")
@database_option
@json_option
@handles_errors
def create_key(
    tenant: str, role: str, user_id: str | None, name: str | None, database: str, as_json: bool
) -> None:
    """Create a key (a new tenant name creates the tenant). The secret is shown only once."""
    with cli_store(database) as store:
        created = KeyService(store).create(tenant, role, user_id=user_id, name=name)
    record = created.record
    if as_json:
        echo_json(
            {
                "key": created.key,
                "id": record.id,
                "tenant": record.tenant_id,
                "role": record.role,
                "user_id": record.user_id,
                "name": record.name,
            }
        )
        return
    scope = f", confined to user {record.user_id!r}" if record.user_id else ""
    click.echo(
        f"Created {record.role} key {record.id} for tenant {record.tenant_id!r}{scope}.", err=True
    )
    click.echo(created.key)
    click.echo("Store it now: the secret is not shown again.", err=True)


@keys_group.command("list")
@tenant_option
@database_option
@json_option
@handles_errors
def list_keys(tenant: str, database: str, as_json: bool) -> None:
    """List a tenant's keys (never their secrets)."""
    with cli_store(database) as store:
        records = KeyService(store).list(tenant)
    if as_json:
        echo_json([r.model_dump(mode="json") for r in records])
        return
    if not records:
        click.echo(f"No keys in tenant {tenant!r}.")
        return
    echo_table(
        ["id", "role", "user", "name", "created", "revoked"],
        [
            [r.id, r.role, r.user_id, r.name, format_time(r.created_at), format_time(r.revoked_at)]
            for r in records
        ],
    )


@keys_group.command("revoke")
@click.argument("key_id")
@tenant_option
@database_option
@handles_errors
def revoke_key(key_id: str, tenant: str, database: str) -> None:
    """Revoke a key by its id; requests with it fail from now on."""
    with cli_store(database) as store:
        record = KeyService(store).revoke(tenant, key_id)
    click.echo(f"Revoked key {record.id} of tenant {record.tenant_id!r}.")


@keys_group.command("erase-all")
@click.option("--yes", is_flag=True, help="Confirm: erase every key of every tenant.")
@database_option
@handles_errors
def erase_all_keys(yes: bool, database: str) -> None:
    """Erase every key of every tenant, revoked ones too, which returns to open mode.

    Revoking keys never reopens a server. After this, a server bound to loopback (or run with
    --insecure) lets callers without a key act as the default tenant's admin again; running
    servers notice within a second.
    """
    if not yes:
        fail(
            "this erases every API key of every tenant, and a server on loopback then answers "
            "callers without a key as admin; pass --yes to do it"
        )
    with cli_store(database) as store:
        erased = KeyService(store).erase_all()
    click.echo(f"Erased {erased} keys: servers on loopback are in open mode again.")
