"""Policy check and audit record of a state-changing CLI command, in one call at its start:

    rt = wiring.build()
    audited(rt, "keys:Revoke", target=f"key/{key_id}")
    audited(rt, "assets:Delete", asset_names(rt, asset_id), as_json=as_json)

The command's principal (cli/principal.py) must be allowed `action` on `resource`: if not,
the record says `denied` (status 403) and the command exits 3. If it is, the record is
written when the command ends, with its outcome: the exit status as an HTTP-like status
(0: 200, 2: 400 refused input, 3: 403, anything else or a crash: 500). An invalid
PRIMEVOD_API_KEY is recorded as `anonymous`, 401. After the record, a digest is made when
the newest is over an hour old, so an installation used only from the shell keeps signed
digests too. Light to import: every CLI start imports the commands that call it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from primevod.core.access import Principal

log = logging.getLogger("primevod.audit")
DENIED_STATUS, INVALID_KEY_STATUS = 403, 401
ANY = "*"  # core.access.ANY, not imported here: it is slow to import


def asset_names(rt: Any, asset_id: str) -> list[str]:
    """The names a policy knows the asset by (its collection's too, when it has one)."""
    from primevod.core.access import asset_resources
    from primevod.core.errors import NotFound

    try:
        return asset_resources(asset_id, rt.catalog.get_asset(asset_id).collection)
    except NotFound:
        return asset_resources(asset_id)


def _current_context() -> Any:
    """The running command's context. typer (0.29 and later, pyproject.toml) carries its own
    click, which closes a context's resources with the command's exception; it exposes the
    current context only from that module."""
    from typer._click.globals import get_current_context

    return get_current_context(silent=True)


def exit_code_of(exc: BaseException | None) -> int:
    if exc is None:
        return 0
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else 1
    code = getattr(exc, "exit_code", None)  # typer's or click's Exit, a usage error
    return code if isinstance(code, int) else 1


def status_of(exit_code: int) -> int:
    return {0: 200, 2: 400, 3: DENIED_STATUS}.get(exit_code, 500)


def _command(ctx: Any) -> str:
    """`primevod keys create`, however the CLI was started."""
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["primevod", *names])


def write(rt: Any, principal: str, action: str, target: str, status: int, command: str) -> None:
    """One record (and a digest when one is due); a failure to write is logged, never
    raised: the command has already done its work."""
    from primevod import __version__
    from primevod.core.audit import AuditEntry, outcome_of
    from primevod.pipeline import audit

    entry = AuditEntry(
        time=datetime.now(UTC),
        principal=principal,
        action=action,
        resource=target,
        outcome=outcome_of(status),
        status=status,
        request_id=uuid.uuid4().hex,
        origin="cli",
        route=command,
        user_agent=f"primevod-cli/{__version__}",
    )
    try:
        audit.record(rt, entry)
        audit.digest_if_due(rt)
    except Exception:
        log.exception("audit record not written: %s %s %s", command, principal, action)


class _Outcome:
    """Writes the record when the command's click context closes, seeing how it ended."""

    def __init__(self, rt: Any, principal: str, action: str, target: str, command: str) -> None:
        self.args = (rt, principal, action, target)
        self.command = command

    def __enter__(self) -> _Outcome:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        code = exit_code_of(exc)
        write(*self.args, status_of(code), self.command)


def audited(
    rt: Any | None,
    action: str,
    resource: str | Sequence[str] = ANY,
    *,
    target: str | None = None,
    as_json: bool = False,
) -> Principal:
    """Check `action` on `resource` for the command's principal and audit the command (see the
    module). `target`: what the record names, when not the first resource name (`key/<id>`
    for an action whose policy resource is `*`). `rt` None: built here."""
    from primevod.cli import principal as who
    from primevod.core.audit import ANONYMOUS

    if rt is None:
        from primevod import wiring

        rt = wiring.build()
    ctx = _current_context()
    command = _command(ctx)
    names = [resource] if isinstance(resource, str) else list(resource)
    target = target or (names[0] if names else ANY)
    try:
        principal = who.current(rt)
    except Exception as exc:  # fail(): an invalid key
        if exit_code_of(exc) == who.DENIED_EXIT:
            write(rt, ANONYMOUS, action, target, INVALID_KEY_STATUS, command)
        raise
    if not principal.decide(action, names).allowed:
        write(rt, principal.key_id, action, target, DENIED_STATUS, command)
        who.require(rt, action, names, as_json=as_json)  # says why, exits 3
    if ctx is None:  # called outside a command (tests, scripts): record it now
        write(rt, principal.key_id, action, target, 200, command)
    else:
        ctx.with_resource(_Outcome(rt, principal.key_id, action, target, command))
    return principal
