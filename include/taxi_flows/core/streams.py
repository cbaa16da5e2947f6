"""Overlapping the reading of a file with the writing of its rows, and with its download."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Iterate items in a background thread, at most depth items ahead of the consumer.

    The producer (download, decompress, parse, encode: mostly outside the GIL) runs while the
    consumer sends the previous items to the database, so both cores work. An exception in the
    producer is raised in the consumer; a consumer that stops early stops the producer.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as e:  # handed to the consumer, which raises it
            put(_Failed(e))

    thread = threading.Thread(target=produce, name="taxi-flows-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()
        close = getattr(items, "close", None)
        if close:
            close()


class Background:
    """Call consume(item) for each item put, in a thread of its own, at most depth items behind.

    The consumer (a second Parquet writer: its encoding is outside the GIL) runs beside the caller,
    so two writers of the same rows use both cores. Its first error is raised by the next put() or
    by close(); after an error, or on leaving the block with one, the rest is not consumed.
    """

    def __init__(self, consume, depth: int = 1, name: str = "taxi-flows-background"):
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._consume = consume
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._q.get()) is not _DONE:
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as e:  # raised in the caller's thread
                    self._error = e

    def put(self, item: object) -> None:
        self._raise()
        self._q.put(item)

    def close(self) -> None:
        """Wait until every item put is consumed; raise the consumer's error."""
        if self._thread.is_alive():
            self._q.put(_DONE)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Background:
        return self

    def __exit__(self, kind, error, tb) -> None:
        if kind is None:
            self.close()
            return
        self._error = self._error or error  # the rest is skipped, not consumed
        self._q.put(_DONE)
        self._thread.join()


class DownloadFailed(OSError):
    """The download an ArrivingFile waits for failed: its error is the cause."""


class Arrival:
    """A download arriving in a local file, written by another thread, read by a reader that knows
    where what it needs lies (a Parquet reader: one row group after the other, from the footer's
    offsets): wait(end) returns once the file's first `end` bytes are there, and raises
    DownloadFailed once the download failed. The writer calls arrived(n) after each write, and
    failed(error) if it stops."""

    def __init__(self) -> None:
        self._written = 0
        self._error: BaseException | None = None
        self._cond = threading.Condition()

    def arrived(self, n: int) -> None:
        with self._cond:
            self._written += n
            self._cond.notify_all()

    def failed(self, error: BaseException) -> None:
        with self._cond:
            self._error = error
            self._cond.notify_all()

    @property
    def error(self) -> BaseException | None:
        return self._error

    @property
    def written(self) -> int:
        return self._written

    def wait(self, end: int) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._written >= end or self._error is not None)
            if self._written < end:
                raise DownloadFailed(f"the download failed after {self._written:,} bytes") from self._error
