"""Run an FFmpeg command: progress from `-progress pipe:1`, a stall watchdog, cancellation,
the tail of stderr as the error reason, and the CPU time the run took (user + system, read
from the kernel's accounting of that one child, so concurrent encodes do not mix)."""

from __future__ import annotations

import collections
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from primevod.core.errors import MediaError
from primevod.core.progress import (
    ENCODE_CLOCK,
    EncodeClock,
    ProgressCallback,
    parse_progress_block,
)


def with_encode_clock(cmd: Sequence[str]) -> list[str]:
    """`cmd` with the first output's first stream writing the encode clock to stdout
    (`encoded_time=S` per packet: core/progress.EncodeClock), for an encode whose other
    outputs may start late. The options go right after the last input: the first output's."""
    cmd = list(cmd)
    after_input = max(i for i, arg in enumerate(cmd) if arg == "-i") + 2
    clock = ["-stats_enc_post:0", "pipe:1", "-stats_enc_post_fmt:0", ENCODE_CLOCK + "={t}"]
    return [*cmd[:after_input], *clock, *cmd[after_input:]]


def run_ffmpeg(
    cmd: Sequence[str],
    *,
    duration: float | None,
    frame_rate: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    stall_timeout: float = 300.0,
) -> float:
    """Run FFmpeg to the end; the CPU-seconds it used. Raise MediaError(encode.failed /
    encode.cancelled) otherwise."""
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    )
    child = _Child(proc)
    threads = [
        threading.Thread(target=_read_stderr, args=(child,), daemon=True),
        threading.Thread(target=_watchdog, args=(child, cancel, stall_timeout), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        _follow_progress(child, duration, frame_rate, on_progress)
    finally:
        returncode, cpu_seconds = _reap(proc)
        child.finished.set()
        for thread in threads:
            thread.join(timeout=5)
    _raise_unless_ok(child, returncode, stall_timeout)
    return cpu_seconds


@dataclass
class _Child:
    """One FFmpeg child and what the threads around it share."""

    proc: subprocess.Popen[str]
    stderr_tail: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=40)
    )
    last_activity: float = field(default_factory=time.monotonic)
    stopped: str | None = None  # why the watchdog killed it: "cancelled" or "stalled"
    # set once the child is reaped: the watchdog must not reap it
    finished: threading.Event = field(default_factory=threading.Event)


def _read_stderr(child: _Child) -> None:
    assert child.proc.stderr is not None
    for line in child.proc.stderr:
        if line.strip():
            child.stderr_tail.append(line.rstrip())


def _watchdog(child: _Child, cancel: threading.Event | None, stall_timeout: float) -> None:
    while not child.finished.is_set():
        if cancel is not None and cancel.is_set():
            child.stopped = "cancelled"
            child.proc.kill()
            return
        if time.monotonic() - child.last_activity > stall_timeout:
            child.stopped = "stalled"
            child.proc.kill()
            return
        time.sleep(0.2)


def _follow_progress(
    child: _Child,
    duration: float | None,
    frame_rate: float | None,
    on_progress: ProgressCallback | None,
) -> None:
    """Read stdout to its end: the encode clock's lines and the `-progress` blocks, each a
    sign of life for the watchdog and a report for `on_progress`."""
    block: dict[str, str] = {}
    clock = EncodeClock(duration, started=time.monotonic())
    assert child.proc.stdout is not None
    for line in child.proc.stdout:
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        if key == ENCODE_CLOCK:  # a line of its own, between `-progress` blocks
            child.last_activity = time.monotonic()
            ticked = clock.tick(value, child.last_activity)
            if ticked is not None and on_progress is not None:
                on_progress(ticked)
            continue
        block[key] = value
        if key == "progress":
            child.last_activity = time.monotonic()
            if on_progress is not None:
                on_progress(clock.at_least(parse_progress_block(block, duration, frame_rate)))
            block = {}


def _raise_unless_ok(child: _Child, returncode: int, stall_timeout: float) -> None:
    if child.stopped == "cancelled":
        raise MediaError("encode.cancelled", "the encode was cancelled")
    if child.stopped == "stalled":
        raise MediaError(
            "encode.failed", f"FFmpeg made no progress for {stall_timeout:.0f}s and was stopped"
        )
    if returncode != 0:
        tail = [line for line in child.stderr_tail if line.strip()]
        last = tail[-1] if tail else f"exit code {returncode}"
        raise MediaError("encode.failed", f"FFmpeg failed: {last}", detail="\n".join(tail))


def _reap(proc: subprocess.Popen[str]) -> tuple[int, float]:
    """Wait for the child and read its own resource usage (Popen.wait discards it)."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:  # reaped elsewhere: the exit code stands, the usage is lost
        return proc.wait(), 0.0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime
