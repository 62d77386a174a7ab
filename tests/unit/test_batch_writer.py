"""The batch writer of beacons and audit records: order kept across batches and failures,
back-pressure at max_pending, everything written at stop."""

from __future__ import annotations

from primevod.pipeline.batch_writer import BatchWriter


def test_order_failures_and_back_pressure() -> None:
    written: list[list[int]] = []
    fail = {"next": True}

    def write(batch: list[int]) -> None:
        if fail["next"]:
            fail["next"] = False
            raise OSError("database away")
        written.append(batch)

    writer: BatchWriter[int] = BatchWriter(write, name="t", flush_seconds=3600, max_pending=5)
    assert writer.offer([1, 2, 3])
    assert writer.flush() == 0 and writer.pending == 3  # kept for the next try
    assert writer.offer([4])
    assert not writer.offer([5, 6])  # 4 + 2 > 5: refused whole
    assert writer.flush() == 4
    writer.offer([7])
    writer.stop()  # what is pending goes at stop
    assert written == [[1, 2, 3, 4], [7]]


def test_the_thread_writes_on_its_own() -> None:
    import time

    written: list[int] = []
    writer: BatchWriter[int] = BatchWriter(written.extend, name="t", flush_seconds=0.05)
    writer.offer([1, 2])
    deadline = time.monotonic() + 5
    while written != [1, 2] and time.monotonic() < deadline:
        time.sleep(0.02)
    writer.stop()
    assert written == [1, 2]
