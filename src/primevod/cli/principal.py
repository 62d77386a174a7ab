"""Who runs a CLI command. With `PRIMEVOD_API_KEY` set, the command acts as that key and its
policy decides, exactly as on the API (a key limited to one collection cannot delete another
collection's asset from the shell either). Without it, the local operator: whoever can run
the CLI against this home can read its catalog and files anyway, so it acts as admin; its
audit records name it `local:<user>`."""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from typing import Any

from primevod.cli.output import fail
from primevod.core.access import ANY, ROLE_POLICIES, Principal

KEY_ENV = "PRIMEVOD_API_KEY"
DENIED_EXIT = 3


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the uid says enough
        return str(os.getuid())


def local_operator() -> Principal:
    return Principal(f"local:{_user()}", "admin", ROLE_POLICIES["admin"])


def current(rt: Any) -> Principal:
    """The command's principal: the key in PRIMEVOD_API_KEY (exit 3 when it is not a valid
    key), else the local operator."""
    key = os.environ.get(KEY_ENV)
    if not key:
        return local_operator()
    principal = rt.catalog.authenticate(key)
    if principal is None:
        fail("auth.invalid", f"{KEY_ENV} is not a valid, unrevoked API key", exit_code=DENIED_EXIT)
    return principal


def require(
    rt: Any, action: str, resources: str | Sequence[str] = ANY, *, as_json: bool = False
) -> Principal:
    """The principal, if its policy allows `action` on `resources`; exit 3 otherwise."""
    principal = current(rt)
    decision = principal.decide(action, resources)
    if not decision.allowed:
        fail(
            "access.denied",
            f"key {principal.key_id} (role {principal.role}) may not: {decision.reason}",
            as_json=as_json,
            exit_code=DENIED_EXIT,
        )
    return principal
