"""Streaming downloads of the source files, with retries on transient errors and clear failures.

Nothing is written to disk: the response body is read as it arrives. Two kinds of failure:

- ``SourceError``: the source itself is wrong (404, an HTML page, not gzip, a truncated gzip,
  a header or types that do not match the schema). Retrying will not help; the task fails at once.
- anything else (connection refused, timeouts, 5xx after the retries below, a body cut short of its
  Content-Length): transient; the task's own retries take it again.
"""

from __future__ import annotations

import gzip
import io
import logging
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from taxi_flows.core.redact import redact

log = logging.getLogger(__name__)

# (connect, read) seconds: a server that does not answer fails fast; a slow body is fine as long
# as bytes keep coming.
TIMEOUT = (10, 60)
GZIP_MAGIC = b"\x1f\x8b"


class SourceError(Exception):
    """The source file is missing or not what the schema expects; retrying will not help."""


def session(retries: int = 4, backoff: float = 1.0) -> requests.Session:
    """A session that retries connection errors, 429 and 5xx with exponential back-off."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = "taxi-flows (Apache Airflow DAG bundle)"
    return s


@dataclass
class SourceFacts:
    """What the server said about a source file and what was read of it, for the load summary and
    the coverage page. open_source fills it: the headers on opening, the byte counts as the body is
    read (complete once the stream was read to its end)."""

    url: str = ""  # as requested, redacted (a redirect's signed URL is not kept)
    last_modified: str | None = None  # the Last-Modified header, as sent
    etag: str | None = None
    bytes: int = 0  # bytes of the body (compressed, as downloaded)
    uncompressed_bytes: int | None = None  # bytes after decompression (None until measured)
    _reading: tuple | None = field(default=None, repr=False, compare=False)  # (body counter, gzip stream)

    def measure(self) -> SourceFacts:
        """Bring the byte counts up to what has been read: a reader that reached the end of the
        stream calls it before its checks (open_source measures again when it closes)."""
        if self._reading is not None:
            counter, unzipped = self._reading
            self.bytes = counter.bytes
            self.uncompressed_bytes = unzipped.tell() if unzipped is not None else counter.bytes
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


class _Progress(io.RawIOBase):
    """Counts the bytes read from a response and logs progress every few seconds."""

    def __init__(self, raw: BinaryIO, what: str, total: int | None, every: float = 5.0):
        self.raw, self.what, self.total, self.every = raw, what, total, every
        self.bytes = 0
        self._next_log = time.monotonic() + every

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self.raw.readinto(buffer)
        self.bytes += n or 0
        if time.monotonic() >= self._next_log:
            self._next_log = time.monotonic() + self.every
            share = f" ({self.bytes / self.total:.0%})" if self.total else ""
            log.info("%s: %.1f MB downloaded%s", self.what, self.bytes / 1e6, share)
        return n


@contextmanager
def open_source(
    url: str, what: str, gzipped: bool, http: requests.Session | None = None, facts: SourceFacts | None = None
) -> Iterator[BinaryIO]:
    """Open url as a stream of (decompressed) bytes. what names the file in messages ("yellow 2021-01").
    facts, when given, is filled: the headers on opening, the byte counts at the end (or measure())."""
    http = http or session()
    started = time.monotonic()
    shown = redact(url)  # what messages name: no userinfo, no secret query values
    facts = facts if facts is not None else SourceFacts()
    facts.url = shown
    with http.get(url, stream=True, timeout=TIMEOUT) as response:
        if response.status_code == 404:
            raise SourceError(f"{what}: the source file does not exist (404 Not Found): {shown}")
        if response.status_code >= 400:
            # 5xx after the session's retries, or another client error: let the task retry it.
            raise requests.HTTPError(
                f"{what}: {shown} answered {response.status_code} {response.reason}", response=response
            )
        if response.history:
            log.info("%s: %s redirected to %s", what, shown, redact(response.url))
        content_type = response.headers.get("Content-Type", "")
        if "text/html" in content_type:
            raise SourceError(
                f"{what}: {shown} answered with an HTML page (Content-Type {content_type}), not the data file"
            )
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        size = f"{total / 1e6:.1f} MB" if total else "size unknown"
        log.info("%s: downloading %s (%s)", what, redact(response.url), size)
        facts.last_modified = response.headers.get("Last-Modified")
        facts.etag = response.headers.get("ETag")
        counter = _Progress(response.raw, what, total)
        body = io.BufferedReader(counter, buffer_size=1 << 20)
        head = body.peek(512)[:512]
        _check_head(head, what, shown, gzipped)
        stream: BinaryIO = gzip.GzipFile(fileobj=body, mode="rb") if gzipped else body  # type: ignore[assignment]
        facts._reading = (counter, stream if gzipped else None)
        try:
            yield stream
            facts.measure()._reading = None  # final: the stream closes with the response
        except EOFError as e:
            raise SourceError(
                f"{what}: the gzip stream from {shown} is truncated after {counter.bytes:,} bytes ({e})"
            ) from e
        except (gzip.BadGzipFile, zlib.error) as e:
            raise SourceError(f"{what}: {shown} is not a valid gzip file ({e})") from e
        except Urllib3Error as e:
            # The connection broke (e.g. fewer bytes than Content-Length): transient, retried.
            raise ConnectionError(
                f"{what}: the download from {shown} broke off after {counter.bytes:,} bytes: {e}"
            ) from e
        log.info("%s: %.1f MB downloaded in %.1f s", what, counter.bytes / 1e6, time.monotonic() - started)


def _check_head(head: bytes, what: str, url: str, gzipped: bool) -> None:
    if not head:
        raise SourceError(f"{what}: {url} answered with an empty body")
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise SourceError(f"{what}: {url} answered with an HTML page, not the data file: {head[:80]!r}")
    if gzipped and not head.startswith(GZIP_MAGIC):
        raise SourceError(f"{what}: {url} is not gzip-compressed (it starts with {head[:16]!r})")
