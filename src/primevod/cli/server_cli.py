"""Long-running commands: serve (API + workers + inbox + webhooks), worker, demo; and the
subscription management commands."""

from __future__ import annotations

import json
import signal
import threading
import time
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from primevod.cli.audited import audited
from primevod.cli.output import asset_json, err, fail, out

subs_app = typer.Typer(help="Event subscriptions: webhooks and pull queues.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("edge")(edge)
    app.command("worker")(worker)
    app.command("demo")(demo)
    app.add_typer(subs_app, name="subscriptions")


def _background(rt: Any, *, inbox: bool = True) -> list[Any]:
    """The threads beside the workers: webhook sender, upload sweeper and (optionally) the
    inbox watcher."""
    from primevod.pipeline.inbox import InboxWatcher
    from primevod.pipeline.webhook_sender import WebhookSender

    sender = WebhookSender(
        rt.subscriptions,
        timeout=rt.settings.webhook_timeout_seconds,
        retry_window=rt.settings.webhook_retry_hours * 3600,
        allow_hosts=rt.settings.webhook_allowed,
    )
    from primevod.pipeline.uploads import UploadSweeper

    return [sender, UploadSweeper(rt), *([InboxWatcher(rt)] if inbox else [])]


TlsCert = Annotated[
    Path | None, typer.Option("--tls-cert", help="serve HTTPS: PEM certificate (chain) file")
]
TlsKey = Annotated[Path | None, typer.Option("--tls-key", help="the certificate's PEM private key")]


def _tls(cert: Path | None, key: Path | None) -> dict[str, str]:
    """uvicorn's TLS options for --tls-cert/--tls-key: both or neither, and a pair that loads
    (checked here so a wrong path or a mismatched key is a one-line error, exit 2)."""
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        fail("request.invalid", "give both --tls-cert and --tls-key, or neither")
    import ssl

    for path in (cert, key):
        try:
            path.read_bytes()
        except OSError as exc:
            fail("tls.unreadable", f"cannot read {path}: {exc.strerror or exc}")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        fail("tls.invalid", f"{cert} and {key} are not a PEM certificate and its key: {exc}")
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def _serve_app(rt: Any, host: str, port: int, tls: dict[str, str] | None = None) -> None:
    import uvicorn

    from primevod import wiring
    from primevod.api.app import create_app
    from primevod.api.playback import ensure_signing_key

    ensure_signing_key(rt)  # the embedded default signs playback links from the first start
    from primevod.pipeline import schedules as observer

    observer.schedule(rt)  # alarms every minute, the canary every few minutes
    helpers = _background(rt)

    @asynccontextmanager
    async def lifespan(_app: Any) -> Any:
        for helper in helpers:
            helper.start()
        yield
        for helper in helpers:
            helper.stop()
        wiring.stop()

    from primevod.api.edge import FastEdge

    uvicorn.run(
        FastEdge(create_app(lifespan=lifespan)),
        host=host,
        port=port,
        log_level="warning",
        **(tls or {}),
    )


def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
) -> None:
    """One process: the HTTP API (OpenAPI at /docs), workers, inbox watcher, webhooks."""
    from primevod import wiring

    tls = _tls(tls_cert, tls_key)  # before anything starts
    rt = wiring.start()
    host = host or rt.settings.host
    port = port or rt.settings.port
    rt.settings.host, rt.settings.port = host, port  # the canary reaches this edge
    scheme = "https" if tls else "http"
    err.print(
        f"prime-vod serving on {scheme}://{host}:{port} (API docs at /docs), "
        f"data in {rt.settings.home}"
    )
    _serve_app(rt, host, port, tls)


def edge(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
) -> None:
    """The signed delivery edge alone (/vod/...), beside a server sharing its data."""
    tls = _tls(tls_cert, tls_key)
    import uvicorn

    from primevod import wiring
    from primevod.api.playback import ensure_signing_key

    rt = wiring.setup_telemetry(wiring.build())
    ensure_signing_key(rt)
    host = host or rt.settings.host
    port = port or rt.settings.port
    scheme = "https" if tls else "http"
    err.print(f"prime-vod edge on {scheme}://{host}:{port}/vod/ (data in {rt.settings.home})")
    if workers > 1:
        uvicorn.run(
            "primevod.api.edge_main:app",
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            **tls,
        )
    else:
        from primevod.api.app import create_edge_app
        from primevod.api.edge import FastEdge

        uvicorn.run(
            FastEdge(create_edge_app()),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            **tls,
        )


def _idle() -> bool:
    from dbos import DBOS

    busy = DBOS.list_workflows(status=["PENDING", "ENQUEUED"], load_input=False, load_output=False)
    return not busy


def worker(
    exit_when_idle: Annotated[
        bool, typer.Option("--exit-when-idle", help="stop once no workflow is queued or running")
    ] = False,
    inbox: Annotated[
        bool, typer.Option("--inbox/--no-inbox", help="also watch the source inbox")
    ] = False,
) -> None:
    """Workers only: run queued encodes and resume interrupted workflows, beside a server that
    shares the same database and store."""
    from primevod import wiring

    rt = wiring.start()
    from primevod.pipeline import schedules as observer

    observer.schedule(rt)
    helpers = _background(rt, inbox=inbox)
    for helper in helpers:
        helper.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    err.print(f"prime-vod worker: {rt.settings.encode_concurrency} encode(s) at once")
    time.sleep(2.0)  # let recovery pick up interrupted workflows
    try:
        while not stop.wait(1.0):
            if exit_when_idle and _idle():
                break
    finally:
        for helper in helpers:
            helper.stop()
        wiring.stop()


def demo_signin_link(catalog: Any, base: str, key: str) -> str:
    """A one-time link that signs a browser in to the console as `key` (the demo's admin):
    single use, valid for 15 minutes, stored only as a hash (core/console_sessions.py)."""
    from primevod.core.api_keys import split_key
    from primevod.core.console_sessions import LINK_SECONDS, signin_url

    parts = split_key(key)
    assert parts is not None  # a key the catalog just made
    return signin_url(base, catalog.create_signin_link(parts[0], LINK_SECONDS))


def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the result after")
    ] = True,
    port: Annotated[int | None, typer.Option(help="port to serve on")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Process the bundled Big Buck Bunny excerpt on the embedded default, then serve it."""
    from primevod import wiring
    from primevod.pipeline import workflows

    rt = wiring.start()
    sample = Path(str(resources.files("primevod.samples") / "bbb-excerpt.mp4"))
    asset = wiring.submit_file(sample, title="Big Buck Bunny (excerpt)")
    err.print(f"processing {sample.name} as asset {asset.id} ...")
    workflows.run_here(rt, asset.id).get_result()
    asset = rt.catalog.get_asset(asset.id)
    info = asset_json(asset)
    key = rt.catalog.create_key("admin", name="demo")
    port = port or rt.settings.port
    rt.settings.port = port
    base = f"http://{rt.settings.host}:{port}"
    info.update(
        api=f"{base}/api/v1/assets/{asset.id}",
        docs=f"{base}/docs",
        admin_key=key,
        signin=demo_signin_link(rt.catalog, base, key),
        watch=f"{base}/watch/{asset.id}",
        upload=f"{base}/",
    )
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        out.print(f"asset {asset.id}: [bold]{asset.status.value}[/bold]")
        if asset.status.value == "ready":
            out.print(f"  HLS  {info['hls_path']}\n  DASH {info['dash_path']}")
        out.print(f"  API  {info['api']}  (Authorization: Bearer {key})\n  docs {info['docs']}")
        out.print(f"  watch {info['watch']} and upload at {info['upload']}")
        out.print(
            f"  sign in to the console (once, within 15 minutes): {info['signin']}",
            highlight=False,
            soft_wrap=True,
        )
    if asset.status.value != "ready":
        wiring.stop()
        error = asset.error
        fail(
            error.code if error else "workflow.failed",
            error.message if error else "the demo did not finish",
        )
    if serve_after:
        err.print(f"serving on {base} (Ctrl-C to stop)")
        _serve_app(rt, rt.settings.host, port)
    else:
        wiring.stop()


def _subs() -> Any:
    from primevod import wiring

    return wiring.build().subscriptions


@subs_app.command("add")
def subs_add(
    url: Annotated[str | None, typer.Option(help="webhook URL")] = None,
    queue: Annotated[str | None, typer.Option(help="create a pull queue of this name")] = None,
    log: Annotated[str | None, typer.Option(help="a rule of this name that logs events")] = None,
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="event type or pattern (asset.*); repeat; default all"),
    ] = None,
    pattern: Annotated[
        str | None,
        typer.Option(help='JSON event pattern, e.g. \'{"type": ["asset.failed"]}\''),
    ] = None,
    secret: Annotated[str | None, typer.Option(help="webhook HMAC secret")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Subscribe a webhook (--url), a pull queue (--queue) or the log (--log) to events,
    optionally only those matching an event pattern (--pattern)."""
    audited(None, "subscriptions:Create", as_json=as_json)
    if sum(1 for target in (url, queue, log) if target) != 1:
        fail("request.invalid", "give exactly one of --url, --queue or --log")
    try:
        rule = json.loads(pattern) if pattern else None
    except json.JSONDecodeError as exc:
        fail("request.invalid", f"--pattern is not JSON: {exc}")
    try:
        if url:
            from primevod.pipeline.webhook_target import check_url
            from primevod.settings import Settings

            check_url(url, Settings().webhook_allowed)
            sub = _subs().add_webhook(url, event, secret, pattern=rule)
        elif log:
            sub = _subs().add_log(log, event, rule)
        else:
            sub = _subs().add_queue(queue or "queue", event, rule)
    except ValueError as exc:
        fail("request.invalid", str(exc))
    if as_json:
        print(json.dumps(sub, indent=2))
    else:
        out.print(f"subscription {sub['id']} ({sub['kind']})")
        if sub.get("secret"):
            out.print(f"signing secret (shown once): {sub['secret']}")


@subs_app.command("list")
def subs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """All subscriptions."""
    subs = _subs().list()
    if as_json:
        print(json.dumps(subs, indent=2))
        return
    for s in subs:
        out.print(f"{s['id']} {s['kind']} {s['url'] or s['name']} {','.join(s['event_types'])}")


@subs_app.command("remove")
def subs_remove(sub_id: str) -> None:
    """Remove a subscription and its pending deliveries."""
    from primevod.adapters.catalog.sql_catalog import NotFound

    audited(None, "subscriptions:Delete", target=f"subscription/{sub_id}")
    try:
        _subs().remove(sub_id)
    except NotFound:
        fail("subscription.not_found", f"no subscription {sub_id}")
    out.print(f"removed {sub_id}")


@subs_app.command("replay")
def subs_replay(sub_id: str) -> None:
    """Send the dead-lettered deliveries of a subscription again."""
    from primevod.adapters.catalog.sql_catalog import NotFound

    audited(None, "subscriptions:Replay", target=f"subscription/{sub_id}")
    try:
        count = _subs().replay_dead(sub_id)
    except NotFound:
        fail("subscription.not_found", f"no subscription {sub_id}")
    out.print(f"replaying {count} deliveries")
