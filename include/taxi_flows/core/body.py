"""Reading a response body, bounded: the bytes as they arrive (progress in the log, a download that
stops making progress fails the try) and, for a gzip file, the bytes it inflates to (a file that
inflates beyond what any month does fails at once). What was read is kept in SourceFacts.

Limits (a real month file: yellow 2019-01 is 110 MB gzipped, about 690 MB of CSV, 5 to 6 times its
compressed size; its lines are a few hundred bytes):
- MAX_INFLATED_BYTES: the decompressed body, 4 GiB;
- MAX_INFLATION: decompressed over compressed bytes, 50 (checked past the first 64 MiB): a "zip
  bomb" inflates a thousand times;
- STALL_SECONDS / STALL_MIN_BYTES: at least 64 KiB every 120 s, or the try fails with the bytes
  received (a server that trickles a byte every few seconds never trips the read timeout).
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field
from typing import BinaryIO

log = logging.getLogger(__name__)

MAX_INFLATED_BYTES = 4 * 2**30
MAX_INFLATION = 50
INFLATION_CHECKED_FROM = 64 * 2**20
STALL_SECONDS = 120.0
STALL_MIN_BYTES = 64 * 2**10


class SourceError(Exception):
    """The source file is missing or not what the schema expects; retrying will not help."""


class SourceUnavailable(ConnectionError):
    """The source could not be read this time (network, server); a later try may succeed."""


@dataclass
class SourceFacts:
    """What the server said about a source file and what was read of it, for the load summary and
    the coverage page: the headers on opening, the byte counts as the body is read (complete once
    the stream was read to its end)."""

    url: str = ""  # as requested, redacted (a redirect's signed URL is not kept)
    last_modified: str | None = None  # the Last-Modified header, as sent
    etag: str | None = None
    bytes: int = 0  # bytes of the body (compressed, as downloaded)
    uncompressed_bytes: int | None = None  # bytes after decompression (None until measured)
    _reading: tuple | None = field(default=None, repr=False, compare=False)  # (Progress, Inflated or None)

    def measure(self) -> SourceFacts:
        """Bring the byte counts up to what has been read (a reader that reached the end of the
        stream calls it before its checks; open_source measures again when it closes)."""
        if self._reading is not None:
            received, inflated = self._reading
            self.bytes = received.bytes
            self.uncompressed_bytes = inflated.bytes if inflated is not None else received.bytes
        return self

    def summary(self) -> dict:
        """The facts under the load summary's names."""
        return {
            "source_url": self.url,
            "source_bytes": self.bytes,
            "source_uncompressed_bytes": self.uncompressed_bytes,
            "source_last_modified": self.last_modified,
            "source_etag": self.etag,
        }


class Progress(io.RawIOBase):
    """The bytes of a response as they arrive: counted, logged every few seconds, and failing the
    try (SourceUnavailable) when fewer than STALL_MIN_BYTES came in STALL_SECONDS."""

    def __init__(self, raw: BinaryIO, what: str, total: int | None, every: float = 5.0):
        self.raw, self.what, self.total, self.every = raw, what, total, every
        self.bytes = 0
        now = time.monotonic()
        self._next_log = now + every
        self._window = (now, 0)  # (start, bytes at its start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        # One read of the socket at a time (read1): what has arrived, so a trickle is seen as one.
        data = self.raw.read1(len(buffer)) if hasattr(self.raw, "read1") else self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes += n
        now = time.monotonic()
        started, at_start = self._window
        if now - started >= STALL_SECONDS:
            if self.bytes - at_start < STALL_MIN_BYTES and n:
                raise SourceUnavailable(
                    f"{self.what}: too slow: the server sent {self.bytes - at_start:,} bytes in the last "
                    f"{now - started:.0f} s ({self.bytes / 1e6:.1f} MB received in all; a try needs at least "
                    f"{STALL_MIN_BYTES // 1024} KiB every {STALL_SECONDS:.0f} s)"
                )
            self._window = (now, self.bytes)
        if now >= self._next_log:
            self._next_log = now + self.every
            share = f" ({self.bytes / self.total:.0%})" if self.total else ""
            log.info("%s: %.1f MB downloaded%s", self.what, self.bytes / 1e6, share)
        return n


class Inflated(io.RawIOBase):
    """The decompressed bytes of a gzip stream, counted and bounded (MAX_INFLATED_BYTES,
    MAX_INFLATION): past a bound the load fails at once (SourceError), nothing more is inflated."""

    def __init__(self, gz: BinaryIO, received: Progress, what: str, shown: str):
        self.gz, self.received, self.what, self.shown = gz, received, what, shown
        self.bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self.gz.readinto(buffer) or 0
        self.bytes += n
        if self.bytes > MAX_INFLATED_BYTES:
            raise SourceError(
                f"{self.what}: {self.shown} inflates beyond {MAX_INFLATED_BYTES / 2**30:.0f} GiB, more than any month "
                "file (the largest is about 0.7 GiB of CSV)"
            )
        if self.bytes > INFLATION_CHECKED_FROM and self.bytes > MAX_INFLATION * max(self.received.bytes, 1):
            raise SourceError(
                f"{self.what}: {self.shown} inflates {self.bytes / max(self.received.bytes, 1):,.0f} times its "
                f"compressed size ({self.received.bytes:,} bytes to over {self.bytes:,}); a month file inflates 5 "
                f"to 6 times (the limit is {MAX_INFLATION})"
            )
        return n
