"""`primevod aws keys`: the API keys of a deployed AWS stack, kept in its assets table (the
stack's `AssetsTable` output) as the local catalog keeps them, with the AWS credentials and
region of the environment (boto3's usual chain).

    primevod aws keys create --role uploader [--name NOTE] [--table NAME]
    primevod aws keys list [--json] [--table NAME]
    primevod aws keys revoke KEY_ID [--table NAME]"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from primevod.cli.output import fail, out

keys_app = typer.Typer(
    name="keys",
    help="API keys of the deployed HTTP API (stored hashed in the assets table; shown once).",
    no_args_is_help=True,
)

TableOpt = Annotated[
    str,
    typer.Option(
        "--table",
        envvar="PRIMEVOD_ASSETS_TABLE",
        help="the stack's assets table (its AssetsTable output)",
    ),
]


def _keys(table: str) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    from primevod.adapters.aws.dynamo_keys import DynamoKeys

    if not table:
        fail("request.invalid", "which table? --table NAME or PRIMEVOD_ASSETS_TABLE")
    try:
        return DynamoKeys(table, boto3.client("dynamodb"))
    except BotoCoreError as exc:  # no region configured, for one
        fail("aws.unavailable", str(exc))


def _aws_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="admin, uploader or viewer")],
    name: Annotated[str | None, typer.Option(help="a note to recognise the key")] = None,
    table: TableOpt = "",
) -> None:
    """Create an API key in the stack's table and print it once."""
    from primevod.core.api_keys import ROLES

    if role not in ROLES:
        fail("request.invalid", f"role must be one of {', '.join(ROLES)}")
    keys = _keys(table)
    try:
        print(keys.create_key(role, name))
    except _aws_errors() as exc:
        fail("aws.request_failed", str(exc))


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    table: TableOpt = "",
) -> None:
    """Key ids, roles and whether they are revoked (never the secrets)."""
    keys = _keys(table)
    try:
        listed = keys.list_keys()
    except _aws_errors() as exc:
        fail("aws.request_failed", str(exc))
    if as_json:
        print(json.dumps(listed, indent=2))
        return
    for k in listed:
        state = "revoked" if k["revoked"] else "active"
        out.print(f"{k['id']} {k['role']} {state} {k['name'] or ''}", markup=False)


@keys_app.command("revoke")
def keys_revoke(key_id: str, table: TableOpt = "") -> None:
    """Revoke a key by its id (API Gateway may still admit it for the authorizer's cache
    time, five minutes)."""
    from primevod.core.errors import NotFound

    keys = _keys(table)
    try:
        keys.revoke_key(key_id)
    except NotFound:
        fail("key.not_found", f"no key {key_id}")
    except _aws_errors() as exc:
        fail("aws.request_failed", str(exc))
    print(f"revoked {key_id}")
