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
    stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
    last_activity = [time.monotonic()]
    reason: list[str] = []
    finished = threading.Event()  # set once the child is reaped: the watchdog must not reap it

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.strip():
                stderr_tail.append(line.rstrip())

    def watchdog() -> None:
        while not finished.is_set():
            if cancel is not None and cancel.is_set():
                reason.append("cancelled")
                proc.kill()
                return
            if time.monotonic() - last_activity[0] > stall_timeout:
                reason.append("stalled")
                proc.kill()
                return
            time.sleep(0.2)

    threads = [
        threading.Thread(target=read_stderr, daemon=True),
        threading.Thread(target=watchdog, daemon=True),
    ]
    for thread in threads:
        thread.start()
    block: dict[str, str] = {}
    clock = EncodeClock(duration, started=time.monotonic())
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            key, sep, value = line.strip().partition("=")
            if not sep:
                continue
            if key == ENCODE_CLOCK:  # a line of its own, between `-progress` blocks
                last_activity[0] = time.monotonic()
                ticked = clock.tick(value, last_activity[0])
                if ticked is not None and on_progress is not None:
                    on_progress(ticked)
                continue
            block[key] = value
            if key == "progress":
                last_activity[0] = time.monotonic()
                if on_progress is not None:
                    on_progress(clock.at_least(parse_progress_block(block, duration, frame_rate)))
                block = {}
    finally:
        returncode, cpu_seconds = _reap(proc)
        finished.set()
        for thread in threads:
            thread.join(timeout=5)
    if reason and reason[0] == "cancelled":
        raise MediaError("encode.cancelled", "the encode was cancelled")
    if reason and reason[0] == "stalled":
        raise MediaError(
            "encode.failed", f"FFmpeg made no progress for {stall_timeout:.0f}s and was stopped"
        )
    if returncode != 0:
        tail = [line for line in stderr_tail if line.strip()]
        last = tail[-1] if tail else f"exit code {returncode}"
        raise MediaError("encode.failed", f"FFmpeg failed: {last}", detail="\n".join(tail))
    return cpu_seconds


def _reap(proc: subprocess.Popen[str]) -> tuple[int, float]:
    """Wait for the child and read its own resource usage (Popen.wait discards it)."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:  # reaped elsewhere: the exit code stands, the usage is lost
        return proc.wait(), 0.0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime
