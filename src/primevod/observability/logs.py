"""Structured logs: with `log_format = "json"` every record of the `primevod` loggers is one
JSON object on stderr carrying the asset, execution and step it belongs to (set by
`log_context`) and any `extra=` fields such as `duration`."""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from primevod.observability.log_files import RotatingLogFile

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "primevod_log_context", default=None
)
_configured: dict[str, Any] = {}


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    given = {k: v for k, v in fields.items() if v is not None}
    token = _context.set({**(_context.get() or {}), **given})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def setup_logging(
    log_format: str = "text",
    level: str = "INFO",
    file: Path | None = None,
    rotate_bytes: int = 64 * 2**20,
) -> None:
    """Configure the `primevod` logger once per process (idempotent): records to stderr,
    and with `file` also to that file, rotated at `rotate_bytes` and daily (log_files.py)."""
    if _configured.get("format") == (log_format, file):
        return
    logger = logging.getLogger("primevod")
    for old in list(logger.handlers):
        if getattr(old, "_primevod", False):
            logger.removeHandler(old)
            if isinstance(old, RotatingLogFile):
                old.close()
    formatter: logging.Formatter
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
        logger.setLevel(level.upper())
    else:
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        logger.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        handlers.append(RotatingLogFile(file, rotate_bytes))
    for handler in handlers:
        handler._primevod = True  # type: ignore[attr-defined]
        handler.addFilter(ContextFilter())
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.propagate = False
    _configured["format"] = (log_format, file)
