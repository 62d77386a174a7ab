"""Pipeline commands: config, process, assets, executions, keys, subscriptions, serve,
worker, demo. They only wire adapters (primevod.wiring) and print."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from primevod.cli.audited import asset_names, audited
from primevod.cli.output import asset_json, err, fail, fail_media, out
from primevod.core.assets import TERMINAL, Asset
from primevod.core.errors import MediaError

assets_app = typer.Typer(
    help="List, inspect, retry, cancel and delete assets.", no_args_is_help=True
)
executions_app = typer.Typer(help="Workflow executions and their steps.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
OverrideOpt = Annotated[
    bool,
    typer.Option(
        "--override-budget", help="run even if it takes the month past the budget (admin)"
    ),
]


def register(app: typer.Typer) -> None:
    app.command("config")(config)
    app.command("process")(process)
    app.add_typer(assets_app, name="assets")
    app.add_typer(executions_app, name="executions")
    app.add_typer(keys_app, name="keys")


def config(as_json: JsonOpt = False) -> None:
    """Print the effective settings (defaults < primevod.toml < PRIMEVOD_* variables)."""
    from primevod.settings import Settings

    data = Settings().redacted()
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = Table(show_header=False)
    for key, value in data.items():
        table.add_row(key, str(value))
    out.print(table)


TitleOpt = Annotated[str | None, typer.Option("--title", help="title (one file)")]
DescriptionOpt = Annotated[
    str | None, typer.Option("--description", help="what the title is about (searchable)")
]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="a tag (repeat for several)")]
LadderOpt = Annotated[str | None, typer.Option("--ladder", help="ladder policy")]
CodecsOpt = Annotated[
    str | None,
    typer.Option(
        "--codecs",
        help="codec families: h264 (always), hevc, av1, e.g. h264,av1 "
        "(default: PRIMEVOD_CODECS, h264,av1)",
    ),
]
CollectionOpt = Annotated[
    str | None, typer.Option("--collection", help="place the assets in a collection")
]
EncryptionOpt = Annotated[
    str | None,
    typer.Option(
        "--encryption",
        help="none or aes-128: encrypted HLS, the key served to signed playback (no DASH)",
    ),
]
SubtitlesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--subtitles",
        help="a WebVTT or SRT sidecar as FILE[:LANG] (LANG like en or pt-BR, default und); "
        "repeat for several",
    ),
]

# with --json, refusals before any asset exists still carry the fields of a result
_NO_RESULT: dict[str, Any] = {
    "asset_id": None,
    "status": "failed",
    "hls_path": None,
    "dash_path": None,
}


@dataclass(frozen=True)
class _ProcessArgs:
    """`primevod process`'s arguments as given."""

    files: list[Path]
    title: str | None
    description: str | None
    tags: list[str] | None
    ladder: str | None
    codecs: str | None
    collection: str | None
    override_budget: bool
    encryption: str | None
    subtitles: list[str] | None
    as_json: bool


@dataclass(frozen=True)
class _CheckedOptions:
    """What the checks of `process` give back: the normalised options the assets carry."""

    codecs: str | None
    encryption: str | None
    tags: Any
    sidecars: list[Any]


def process(
    files: Annotated[list[Path], typer.Argument(help="source media files")],
    title: TitleOpt = None,
    description: DescriptionOpt = None,
    tags: TagOpt = None,
    ladder: LadderOpt = None,
    codecs: CodecsOpt = None,
    collection: CollectionOpt = None,
    override_budget: OverrideOpt = False,
    encryption: EncryptionOpt = None,
    subtitles: SubtitlesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole workflow (ingest, process, publish) on FILE... in this process."""
    args = _ProcessArgs(
        files=files,
        title=title,
        description=description,
        tags=tags,
        ladder=ladder,
        codecs=codecs,
        collection=collection,
        override_budget=override_budget,
        encryption=encryption,
        subtitles=subtitles,
        as_json=as_json,
    )
    _process(args)


def _process(args: _ProcessArgs) -> None:
    """Check everything, submit every file, run the workflows here, report each asset."""
    from primevod.cli.startup import loading

    with loading():
        from primevod import wiring
        from primevod.pipeline import workflows

    checked = _checked_options(args)
    from primevod.core.access import asset_resources

    names = asset_resources("*", args.collection)  # as the API's uploads check them
    audited(None, "uploads:Create", names, target=names[-1], as_json=args.as_json)
    with loading():
        rt = wiring.start(role="process")
    if rt.settings.log_format == "text":
        # a failure is reported below as one line; the pipeline's own warning would repeat it
        logging.getLogger("primevod.pipeline").setLevel(logging.ERROR)
    from primevod.observability import tracing

    try:
        # with tracing on, this run is the root span of its assets' traces
        with tracing.span("primevod process", **{"files": len(args.files)}):
            assets = _submit(rt, args, checked)
            _run_all(rt, assets, workflows.run_here, args.as_json)
        final = [rt.catalog.get_asset(a.id) for a in assets]
    finally:
        wiring.stop(exiting=True)
    gc.freeze()  # the process ends soon: spare the final collection of every object
    results = [asset_json(a) for a in final]
    _print_results(results, args.as_json)
    _report_failures(results)


def _refuse(args: _ProcessArgs, code: str, message: str) -> NoReturn:
    fail(code, message, as_json=args.as_json, fields=_NO_RESULT)


def _checked_options(args: _ProcessArgs) -> _CheckedOptions:
    """Every option and file checked before any asset exists; the first bad one ends the
    command with its code."""
    from primevod.core.access import check_collection
    from primevod.core.asset_details import check_upload_details
    from primevod.core.codec_families import codecs_text, parse_codecs
    from primevod.core.content_keys import check_encryption
    from primevod.core.policies import get_policy

    codecs = args.codecs
    try:
        get_policy(args.ladder or "default")
        if codecs is not None:
            codecs = codecs_text(parse_codecs(codecs))
    except MediaError as exc:
        _refuse(args, exc.code, exc.message)
    try:
        if args.collection:
            check_collection(args.collection)
        encrypt = check_encryption(args.encryption)
        details = check_upload_details(args.title, args.description, args.tags, {})
    except ValueError as exc:
        _refuse(args, "request.invalid", str(exc))
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        _refuse(args, "source.missing", f"no such file: {missing[0]}")
    sidecars = _sidecars(args.subtitles or [], len(args.files), args.as_json, _NO_RESULT)
    return _CheckedOptions(
        codecs=codecs, encryption=encrypt, tags=details.get("tags"), sidecars=sidecars
    )


def _asset_metadata(rt: Any, args: _ProcessArgs, checked: _CheckedOptions) -> dict[str, Any]:
    """What every asset of this run carries beside its source: the budget override, the
    collection, encryption, codec families and the stored subtitle sidecars."""
    extra = {"budget_override": "true"} if args.override_budget else {}
    if args.collection:
        extra["collection"] = args.collection
    if checked.encryption:
        extra["encryption"] = checked.encryption
    if checked.codecs:
        extra["codecs"] = checked.codecs
    if checked.sidecars:
        from primevod.pipeline import subtitle_sidecars

        extra["subtitles"] = subtitle_sidecars.store(rt, checked.sidecars)
    return extra


def _submit(rt: Any, args: _ProcessArgs, checked: _CheckedOptions) -> list[Asset]:
    """An asset per file (the title only when there is one file)."""
    from primevod import wiring

    metadata = _asset_metadata(rt, args, checked)
    return [
        wiring.submit_file(
            f,
            title=args.title if len(args.files) == 1 else None,
            description=args.description,
            tags=checked.tags,
            ladder=args.ladder,
            metadata=metadata,
        )
        for f in args.files
    ]


def _run_all(
    rt: Any, assets: list[Asset], run_here: Callable[[Any, str], Any], as_json: bool
) -> None:
    """Run the assets' workflows in this process, `encode_concurrency` at a time, with a
    progress bar when there is a terminal to draw it on."""

    def run(asset: Asset) -> None:
        # cancelled: DBOS raises here, the catalog holds the outcome, reported below
        with contextlib.suppress(Exception):
            run_here(rt, asset.id).get_result()

    with ThreadPoolExecutor(max_workers=rt.settings.encode_concurrency) as pool:
        futures = [pool.submit(run, a) for a in assets]
        if not as_json and err.is_terminal:  # a bar to draw: follow the catalog
            _watch(rt, [a.id for a in assets])
        for future in futures:
            future.result()


def _print_results(results: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(results[0] if len(results) == 1 else {"assets": results}, indent=2))
        return
    for r in results:
        out.print(f"[bold]{r['asset_id']}[/bold] {r['status']}", soft_wrap=True)
        if r["status"] == "ready":
            out.print(f"  HLS  {r['hls_path']}", soft_wrap=True, highlight=False)
            if r["dash_path"]:  # none for an encrypted (HLS-only) asset
                out.print(f"  DASH {r['dash_path']}", soft_wrap=True, highlight=False)


def _report_failures(results: list[dict[str, Any]]) -> None:
    """Each asset that is not ready as one error line; any of them makes the exit code 2."""
    failed = [r for r in results if r["status"] != "ready"]
    for r in failed:
        error = r["error"] or {"code": "workflow.failed", "message": "did not finish"}
        err.print(
            f"[red]error[/red] {error['code']}: {error['message']}", highlight=False, soft_wrap=True
        )
    if failed:
        raise typer.Exit(2)


def _sidecars(specs: list[str], sources: int, as_json: bool, nothing: dict[str, Any]) -> list[Any]:
    """`--subtitles FILE[:LANG]` read and checked (size, UTF-8, WebVTT or SRT) before any
    encode; a bad one ends the command with `source.subtitles_invalid` and its line."""
    if not specs:
        return []
    from primevod.core.subtitles import MAX_SIDECAR_BYTES, MAX_SUBTITLE_TRACKS, check_total
    from primevod.pipeline.subtitle_sidecars import SidecarInvalid, SidecarText, check_one

    def refuse(code: str, message: str) -> None:
        fail(code, message, as_json=as_json, fields=nothing)

    if sources != 1:
        refuse("request.invalid", "--subtitles goes with one source file")
    if len(specs) > MAX_SUBTITLE_TRACKS:
        refuse("source.subtitles_invalid", f"at most {MAX_SUBTITLE_TRACKS} subtitle files")
    items = []
    for spec in specs:
        path, language = Path(spec), None
        head, sep, tail = spec.rpartition(":")
        if sep and head and not path.is_file():  # FILE:LANG (a path may hold ':' itself)
            path, language = Path(head), tail
        if not path.is_file():
            refuse("source.missing", f"no such subtitle file: {path}")
        if path.stat().st_size > MAX_SIDECAR_BYTES:  # not read at all
            refuse("source.subtitles_invalid", f"{path.name}: over {MAX_SIDECAR_BYTES} bytes")
        try:
            items.append(check_one(SidecarText(language=language, data=path.read_bytes())))
        except SidecarInvalid as exc:
            refuse("source.subtitles_invalid", f"{path.name}: {exc}")
    try:  # the same total as an upload init's
        check_total([len(item.data) for item in items])
    except ValueError as exc:
        refuse("source.subtitles_invalid", str(exc))
    return items


def _watch(rt: Any, asset_ids: list[str]) -> None:
    """Draw a progress bar from the catalog until every asset is ready or failed."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks = {a: bar.add_task(a[:8], total=1.0, status="") for a in asset_ids}
        pending = set(asset_ids)
        while pending:
            for asset_id in list(pending):
                asset = rt.catalog.get_asset(asset_id)
                bar.update(tasks[asset_id], completed=asset.progress, status=asset.status.value)
                if asset.status in TERMINAL:
                    pending.discard(asset_id)
            if pending:
                time.sleep(0.25)


def _client() -> Any:
    from primevod import wiring

    return wiring.connect()


def _asset_or_404(rt: Any, asset_id: str, as_json: bool = False) -> Asset:
    from primevod.adapters.catalog.sql_catalog import NotFound

    try:
        return rt.catalog.get_asset(asset_id)
    except NotFound:
        fail("asset.not_found", f"no asset {asset_id}", as_json=as_json)


@assets_app.command("list")
def assets_list(
    status: Annotated[str | None, typer.Option(help="only this status")] = None,
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next page cursor")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List assets, newest first."""
    from primevod import wiring

    rt = wiring.build()
    page = rt.catalog.list_assets(status=status, limit=limit, cursor=cursor)
    if as_json:
        print(
            json.dumps(
                {"items": [asset_json(a) for a in page.items], "next_cursor": page.next_cursor},
                indent=2,
            )
        )
        return
    table = Table()
    for col in ("id", "status", "title", "duration", "rungs", "created"):
        table.add_column(col)
    for a in page.items:
        table.add_row(
            a.id,
            a.status.value,
            a.title or "",
            f"{a.duration:.1f}s" if a.duration else "",
            str(sum(1 for r in a.renditions if r.get("kind") == "video")),
            a.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"next page: --cursor {page.next_cursor}")


@assets_app.command("show")
def assets_show(asset_id: str, as_json: JsonOpt = False) -> None:
    """Everything the catalog knows about one asset."""
    from primevod import wiring

    rt = wiring.build()
    asset = _asset_or_404(rt, asset_id, as_json)
    if as_json:
        print(json.dumps({**asset.model_dump(mode="json"), **asset_json(asset)}, indent=2))
        return
    out.print_json(asset.model_dump_json(exclude={"probe"}))


@assets_app.command("retry")
def assets_retry(
    asset_id: str, override_budget: OverrideOpt = False, as_json: JsonOpt = False
) -> None:
    """Start a new execution of a failed asset (a worker or server runs it)."""
    from primevod.pipeline import budget_guard, workflows

    rt = _client()
    audited(rt, "assets:Retry", asset_names(rt, asset_id), as_json=as_json)
    asset = _asset_or_404(rt, asset_id, as_json)
    metadata, spent = budget_guard.job_metadata(rt, asset.metadata, override_budget)
    if spent is not None:
        fail("budget.exceeded", spent.message, as_json=as_json)
    if metadata != asset.metadata:
        rt.catalog.update_asset(asset_id, metadata=metadata)
    try:
        execution = workflows.retry(rt, asset_id)
    except MediaError as exc:  # source.expired
        fail_media(exc, as_json)
    except ValueError as exc:
        fail("asset.conflict", str(exc), as_json=as_json)
    print(
        json.dumps({"asset_id": asset_id, "execution_id": execution})
        if as_json
        else f"queued {execution}"
    )


@assets_app.command("cancel")
def assets_cancel(asset_id: str, as_json: JsonOpt = False) -> None:
    """Cancel an asset's running workflow (its encode stops within a second or two)."""
    from primevod.pipeline import workflows

    rt = _client()
    audited(rt, "assets:Cancel", asset_names(rt, asset_id), as_json=as_json)
    _asset_or_404(rt, asset_id, as_json)
    execution = workflows.cancel(rt, asset_id)
    if execution is None:
        fail("asset.conflict", f"asset {asset_id} has no running workflow", as_json=as_json)
    print(
        json.dumps({"asset_id": asset_id, "cancelled": execution})
        if as_json
        else f"cancelled {execution}"
    )


@assets_app.command("delete")
def assets_delete(asset_id: str, as_json: JsonOpt = False) -> None:
    """Delete an asset: its published outputs, its source and its catalog record."""
    from primevod.pipeline import workflows

    rt = _client()
    audited(rt, "assets:Delete", asset_names(rt, asset_id), as_json=as_json)
    _asset_or_404(rt, asset_id, as_json)
    removed = workflows.delete(rt, asset_id)
    print(
        json.dumps({"asset_id": asset_id, "deleted_objects": removed})
        if as_json
        else f"deleted {asset_id} ({removed} objects)"
    )


@executions_app.command("show")
def executions_show(execution_id: str, as_json: JsonOpt = False) -> None:
    """An execution with its step history (attempts, durations, outcomes)."""
    from primevod import wiring
    from primevod.adapters.catalog.sql_catalog import NotFound

    rt = wiring.build()
    try:
        execution = rt.catalog.get_execution(execution_id)
    except NotFound:
        fail("execution.not_found", f"no execution {execution_id}", as_json=as_json)
    if as_json:
        print(execution.model_dump_json(indent=2))
        return
    out.print(f"{execution.id} [bold]{execution.status}[/bold] asset {execution.asset_id}")
    table = Table()
    for col in ("step", "attempt", "status", "duration", "error"):
        table.add_column(col)
    for step in execution.steps:
        table.add_row(
            step.name,
            str(step.attempt),
            step.status,
            f"{step.duration:.2f}s" if step.duration is not None else "",
            step.error or "",
        )
    out.print(table)


@keys_app.command("create")
def keys_create(
    role: Annotated[
        str | None,
        typer.Option("--role", help="admin, uploader or viewer (with --policy: a label)"),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="a policy document (docs/security.md) instead of a role"),
    ] = None,
    name: Annotated[str | None, typer.Option(help="a note to recognise the key")] = None,
) -> None:
    """Create an API key and print it once."""
    from primevod import wiring
    from primevod.core.access import PolicyError, key_grant, principal_of
    from primevod.core.key_grants import grant_excess

    rt = wiring.build()
    caller = audited(rt, "keys:Create")
    if role is None and policy is None:
        fail("request.invalid", "give --role or --policy")
    try:  # the same rules as the API's POST /api/v1/api-keys
        text = policy.read_text() if policy is not None else None
        label, document = key_grant(role, text, str(policy))
    except OSError as exc:
        fail("policy.invalid", f"{policy}: {exc.strerror or exc}")
    except PolicyError as exc:
        fail("policy.invalid", str(exc))
    except ValueError as exc:
        fail("request.invalid", str(exc))
    excess = grant_excess(caller.policy, principal_of("new", label, document).policy)
    if excess is not None:  # as on the API: a key grants no more than it has
        fail("access.denied", f"a key cannot grant more than it has: may not {excess}", exit_code=3)
    print(rt.catalog.create_key(label, name, document))


@keys_app.command("simulate")
def keys_simulate(
    key_id: Annotated[str, typer.Argument(help="the key's id (the part after pv_)")],
    action: Annotated[str, typer.Argument(help="e.g. assets:Delete")],
    resource: Annotated[
        list[str], typer.Argument(help="asset/<id>, collection/<name>/asset/<id>, or *")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Whether the key's policy allows ACTION on RESOURCE, and which statement decided (the
    policy simulator). Exit 0 allowed, 1 denied."""
    from primevod import wiring
    from primevod.core.errors import NotFound

    try:
        principal = wiring.build().catalog.key_principal(key_id)
    except NotFound:
        fail("key.not_found", f"no key {key_id}", as_json=as_json)
    decision = principal.decide(action, resource)
    if as_json:
        print(
            json.dumps(
                {
                    "key_id": key_id,
                    "action": action,
                    "resource": decision.resource,
                    "allowed": decision.allowed,
                    "statement": decision.statement,
                    "sid": decision.sid,
                    "reason": decision.reason,
                }
            )
        )
    else:
        verdict = "[green]allowed[/green]" if decision.allowed else "[red]denied[/red]"
        out.print(f"{verdict}: {decision.reason}", highlight=False)
    if not decision.allowed:
        raise typer.Exit(1)


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """Key ids, roles and whether they are revoked (never the secrets)."""
    from primevod import wiring

    keys = wiring.build().catalog.list_keys()
    if as_json:
        print(json.dumps(keys, indent=2))
        return
    for k in keys:
        out.print(
            f"{k['id']} {k['role']} ({k['policy']} policy) "
            f"{'revoked' if k['revoked'] else 'active'} {k['name'] or ''}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id (never the last active admin key)."""
    from primevod import wiring
    from primevod.adapters.catalog.sql_catalog import NotFound
    from primevod.api.api_keys import active_policies
    from primevod.core.key_grants import LAST_ADMIN, last_admin

    rt = wiring.build()
    audited(rt, "keys:Revoke", target=f"key/{key_id}")
    if last_admin(key_id, active_policies(rt)):
        fail("key.last_admin", LAST_ADMIN)
    try:
        rt.catalog.revoke_key(key_id)
    except NotFound:
        fail("key.not_found", f"no key {key_id}")
    print(f"revoked {key_id}")
