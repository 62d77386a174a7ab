"""Runs on the Python that OpenStack Swift is installed for (Debian's /usr/bin/python3), never
imported by the tests: swift_s3.py starts it as

    python3 swift_boot.py SWIFT_DIR rings ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT
    python3 swift_boot.py SWIFT_DIR account-server|container-server|object-server|proxy-server

Swift 2.30 reads swift.conf from /etc/swift only (utils.SWIFT_CONF_FILE: no environment
variable, and a server's swift_dir option moves the rings, not swift.conf), so this points
Swift at SWIFT_DIR/swift.conf before anything loads the storage policies, then does what
/usr/bin/swift-ring-builder or /usr/bin/swift-<kind>-server do, with the config given
explicitly. Logs go to stderr (the caller's log file) instead of syslog.
"""

from __future__ import annotations

import builtins
import ctypes
import logging
import os
import signal
import sys
import types
from time import time as now

SWIFT_DIR, COMMAND = sys.argv[1], sys.argv[2]

# PR_SET_PDEATHSIG: end with the tests' process, even one killed before it could stop us
ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))

_open = builtins.open


def _our_swift_conf(file, *args, **kwargs):
    if file == "/etc/swift/swift.conf":
        file = os.path.join(SWIFT_DIR, "swift.conf")
    return _open(file, *args, **kwargs)


# swift.common.utils reads the hash from /etc/swift/swift.conf as it is imported: not that one
builtins.open = _our_swift_conf
try:
    from swift.common import utils
finally:
    builtins.open = _open
utils.set_swift_dir(SWIFT_DIR)  # sets SWIFT_CONF_FILE and checks its [swift-hash]

from swift.common import storage_policy  # noqa: E402  (reads swift.conf when imported)

storage_policy.reload_storage_policies()
utils.ThreadSafeSysLogHandler = lambda *args, **kwargs: logging.NullHandler()


def build_rings(ports: list[str]) -> int:
    """The swift-ring-builder commands, through its entry point in this one process (nine
    processes, each importing Swift, took seconds): one replica, one device per ring."""
    from swift.cli.ringbuilder import main

    os.chdir(SWIFT_DIR)
    for ring, port in zip(("account", "container", "object"), ports, strict=True):
        for command in (
            ["create", "6", "1", "0"],
            ["add", f"r1z1-127.0.0.1:{port}/d1", "1"],
            ["rebalance"],
        ):
            try:
                main(["swift-ring-builder", f"{ring}.builder", *command])
            except SystemExit as done:
                if done.code not in (None, 0, 1):  # 1: done, with warnings
                    print(f"swift-ring-builder {ring}.builder {command[0]}: exit {done.code}")
                    return 2
    return 0


class MemoryCache:
    """The memcache client calls Swift makes, on a dictionary. tempauth refuses to work
    without a cache even for S3 requests; the proxy runs one process (workers = 0), so this
    is as coherent as a memcached server would be."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[float, object]] = {}

    def get(self, key, raise_on_error=False):
        expires, value = self.items.get(key, (0.0, None))
        if expires and expires < now():
            del self.items[key]
            return None
        return value

    def set(self, key, value, serialize=True, time=0, **kwargs):
        self.items[key] = (now() + time if time else 0.0, value)

    def incr(self, key, delta=1, time=0):
        value = int(self.get(key) or 0) + delta
        self.set(key, value, time=time)
        return value

    def decr(self, key, delta=1, time=0):
        return self.incr(key, -delta, time)

    def delete(self, key, server_key=None):
        self.items.pop(key, None)

    def set_multi(self, mapping, server_key, serialize=True, time=0, **kwargs):
        for key, value in mapping.items():
            self.set(key, value, time=time)

    def get_multi(self, keys, server_key):
        return [self.get(key) for key in keys]


def memory_cache_filter(global_conf, **local_conf):
    """paste.deploy filter factory: `paste.filter_factory = memory_cache:filter_factory`."""
    cache = MemoryCache()

    def make(app):
        def middleware(env, start_response):
            env["swift.cache"] = cache
            return app(env, start_response)

        return middleware

    return make


def serve(kind: str) -> int:
    from swift.common.wsgi import run_wsgi

    module = types.ModuleType("memory_cache")
    module.filter_factory = memory_cache_filter  # type: ignore[attr-defined]
    sys.modules["memory_cache"] = module
    kwargs = {}
    if kind == "object-server":
        from swift.obj import server

        kwargs["global_conf_callback"] = server.global_conf_callback
    return int(run_wsgi(os.path.join(SWIFT_DIR, f"{kind}.conf"), kind, verbose=True, **kwargs))


if __name__ == "__main__":
    sys.exit(build_rings(sys.argv[3:6]) if COMMAND == "rings" else serve(COMMAND))
