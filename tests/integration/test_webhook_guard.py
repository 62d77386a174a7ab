"""Webhooks never go inward: a URL whose host is, or resolves to, a loopback, link-local
(the metadata service), private or otherwise special address is refused when the
subscription is added (API 400, CLI exit 2) and again when a delivery is sent (after
resolution, to the checked address itself), with the refusal on the delivery; an operator
can allow a host by name."""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from support.cli import run_cli
from support.server import Server

from primevod.core.assets import Event
from primevod.core.net_guard import refused_address
from primevod.pipeline.webhook_sender import WebhookSender
from primevod.pipeline.webhook_target import target

INWARD = [
    "http://127.0.0.1:8080/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://localhost:9/hook",  # a name that resolves to 127.0.0.1
    "http://[::1]/hook",
]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "169.254.169.254",
        "10.0.0.1",
        "::1",
        "192.168.0.10",
        "100.64.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_special_addresses_are_refused(address: str) -> None:
    assert refused_address(ipaddress.ip_address(address)) is not None


def test_public_addresses_pass() -> None:
    assert refused_address(ipaddress.ip_address("93.184.215.14")) is None
    assert refused_address(ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")) is None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("guard"))
    yield srv
    srv.stop()


@pytest.mark.parametrize("url", INWARD)
def test_the_api_and_the_cli_refuse_an_inward_webhook(server: Server, url: str) -> None:
    added = httpx.post(
        f"{server.base}/api/v1/subscriptions",
        json={"kind": "webhook", "url": url},
        headers=server.auth("admin"),
    )
    assert added.status_code == 400 and "refused" in added.json()["detail"]
    cli = run_cli(server.home, "subscriptions", "add", "--url", url)
    assert cli.returncode == 2 and "refused" in cli.stderr


class _Hook(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.hosts.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_sending_checks_again_and_an_allowed_host_is_reached_by_its_address(tmp_path: Path) -> None:
    from primevod import wiring
    from primevod.settings import Settings

    rt = wiring.build(Settings(home=tmp_path))
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://localhost:{hook.server_port}/hook"  # added before the rules (or via DNS)
    sub = rt.subscriptions.add_webhook(url, ["asset.*"])
    rt.catalog.emit(Event(type="asset.progress", data={"n": 1}))
    WebhookSender(rt.subscriptions, retry_base=60).send_due()
    [refused] = rt.subscriptions.deliveries(sub["id"])
    assert refused["status"] == "pending" and "refused" in refused["last_error"]
    assert "127.0.0.1" in refused["last_error"] and _Hook.hosts == []
    allowed = WebhookSender(rt.subscriptions, retry_base=60, allow_hosts=["localhost"])
    pinned = target(url, ["localhost"])
    assert pinned.url.startswith(f"http://127.0.0.1:{hook.server_port}/")
    rt.catalog.emit(Event(type="asset.progress", data={"n": 2}))
    assert allowed.send_due() >= 1
    assert _Hook.hosts and _Hook.hosts[-1] == f"localhost:{hook.server_port}"
    hook.shutdown()
