"""Streaming downloads of the source files: retries only where a retry can help, every failure in
the bundle's words, and bounded work on any input (core.body).

Nothing is written to disk: the response body is read as it arrives. Two kinds of failure:

- ``SourceError``: the source itself is wrong, or no retry can fix it (404, 403, another 4xx but
  408 and 429, a redirect loop, an HTML page, not gzip, a truncated gzip, a body that inflates
  beyond any month, a header or types that do not match the schema, a Retry-After longer than
  MAX_RETRY_AFTER). The task fails at once.
- ``SourceUnavailable``: this try could not read it (no connection, no answer, 5xx after the
  session's retries, 429 after waiting as asked, a body cut short of its Content-Length, a read
  timeout, a download that stopped making progress). The task's own retries take it again.

The session retries connection errors and 5xx itself, with back-off; a 429 (or a 503 with
Retry-After) waits as long as the server asks, up to MAX_RETRY_AFTER, saying so in the log.
"""

from __future__ import annotations

import email.utils
import gzip
import io
import logging
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from taxi_flows.core.body import Inflated, Progress, SourceError, SourceFacts, SourceUnavailable
from taxi_flows.core.redact import redact

try:  # ISA-L's inflate (python-isal, in requirements.txt): 3.5x zlib's on a month file (0.14 s against 0.51 s)
    from isal.igzip import IGzipFile as GzipReader
    from isal.isal_zlib import error as InflateError
except ImportError:  # pragma: no cover - a platform without its wheel: the standard library's
    GzipReader, InflateError = gzip.GzipFile, zlib.error

__all__ = ["SourceError", "SourceFacts", "SourceUnavailable", "open_source", "session"]

log = logging.getLogger(__name__)

# (connect, read) seconds: a server that does not answer fails fast; a slow body is fine as long
# as bytes keep coming (core.body fails one that trickles).
TIMEOUT = (10, 60)
MAX_REDIRECTS = 10
MAX_RETRY_AFTER = 300  # seconds a download waits when a server asks (429, 503 Retry-After)
THROTTLED_TRIES = 3  # answers of 429 waited out before the try gives up
GZIP_MAGIC = b"\x1f\x8b"
RETRY_STATUSES = (500, 502, 503, 504)


def session(retries: int = 4, backoff: float = 1.0) -> requests.Session:
    """A session that retries connection errors and 5xx with exponential back-off (a Retry-After is
    handled by open_source, which says what it waits for), and follows at most MAX_REDIRECTS."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.max_redirects = MAX_REDIRECTS
    s.headers["User-Agent"] = "taxi-flows (Apache Airflow DAG bundle)"
    return s


def _tries(http: requests.Session, url: str) -> int:
    """How many tries the session's adapter makes of a request (for the messages: "after 5 tries")."""
    retries = getattr(http.get_adapter(url), "max_retries", None)
    return (getattr(retries, "total", None) or 0) + 1


def retry_after(value: str | None, default: float) -> float:
    """Seconds a Retry-After header asks for (a number or an HTTP date); default when absent."""
    if not value:
        return default
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _get(http: requests.Session, url: str, what: str, shown: str) -> requests.Response:
    """The response of a GET that is worth reading: waits out a 429 as asked, fails in words otherwise."""
    tries = _tries(http, url)
    for throttled in range(THROTTLED_TRIES + 1):
        try:
            response = http.get(url, stream=True, timeout=TIMEOUT)
        except requests.TooManyRedirects as e:
            raise SourceError(f"{what}: redirect loop after {MAX_REDIRECTS} hops at {shown}") from e
        except (requests.Timeout, requests.ConnectionError) as e:
            if isinstance(e, requests.Timeout) or "timed out" in _reason(e):
                raise SourceUnavailable(f"{what}: {shown} did not answer within {TIMEOUT[1]} s ({tries} tries)") from e
            raise SourceUnavailable(f"{what}: could not reach {shown} ({tries} tries): {_reason(e)}") from e
        status, reason = response.status_code, response.reason
        if status != 429 and not (status == 503 and response.headers.get("Retry-After")):
            return response
        response.close()
        wait = retry_after(response.headers.get("Retry-After"), default=5.0 * 2**throttled)
        if wait > MAX_RETRY_AFTER:
            raise SourceError(
                f"{what}: {status} {reason} from {shown}, retry after {wait:,.0f} s: longer than a try waits "
                f"({MAX_RETRY_AFTER} s); run the month again later"
            )
        if throttled == THROTTLED_TRIES:
            break
        log.warning("%s: %s %s: waiting %.0f s as the server asked", what, status, reason, wait)
        time.sleep(wait)
    raise SourceUnavailable(f"{what}: {status} {reason} from {shown} after waiting {THROTTLED_TRIES} times as asked")


def _reason(e: Exception) -> str:
    """The innermost cause of a requests/urllib3 error, without its traceback-like wrapping."""
    while e.__cause__ is not None or e.__context__ is not None:
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    return str(getattr(e, "reason", None) or e)


def _check_status(response: requests.Response, what: str, shown: str, tries: int) -> None:
    status, reason = response.status_code, response.reason
    if status < 400:
        return
    if status == 404:
        raise SourceError(f"{what}: the source file does not exist (404 Not Found): {shown}")
    if status == 403:
        raise SourceError(
            f"{what}: 403 Forbidden from {shown}: the TLC answers 403 for a month it has not published yet "
            "(or a signed URL expired)"
        )
    if status >= 500:
        raise SourceUnavailable(f"{what}: {status} {reason} from {shown} after {tries} tries")
    if status == 408:
        raise SourceUnavailable(f"{what}: 408 Request Timeout from {shown}")
    raise SourceError(f"{what}: {status} {reason} from {shown}: a client error, which no retry fixes")


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
    with _get(http, url, what, shown) as response:
        _check_status(response, what, shown, _tries(http, url))
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
        received = Progress(response.raw, what, total)
        body = io.BufferedReader(received, buffer_size=1 << 20)
        inflated = None
        try:
            head = body.peek(512)[:512]
            _check_head(head, what, shown, gzipped)
            stream: BinaryIO = body  # type: ignore[assignment]
            if gzipped:
                inflated = Inflated(GzipReader(fileobj=body, mode="rb"), received, what, shown)
                stream = io.BufferedReader(inflated, buffer_size=1 << 20)  # type: ignore[assignment]
            facts._reading = (received, inflated)
            yield stream
            facts.measure()._reading = None  # final: the stream closes with the response
        except EOFError as e:
            raise SourceError(
                f"{what}: the gzip stream from {shown} is truncated after {received.bytes:,} bytes ({e})"
            ) from e
        except (gzip.BadGzipFile, zlib.error, InflateError) as e:
            raise SourceError(f"{what}: {shown} is not a valid gzip file ({e})") from e
        except (ReadTimeoutError, requests.Timeout, TimeoutError) as e:
            raise SourceUnavailable(
                f"{what}: the server stopped sending after {received.bytes / 1e6:.1f} MB for {TIMEOUT[1]} s "
                "(read timeout)"
            ) from e
        except (ProtocolError, Urllib3Error, requests.ConnectionError) as e:
            if total is not None and received.bytes < total:
                said = f"the server announced {total / 1e6:.1f} MB and sent {received.bytes / 1e6:.1f} MB"
            else:
                said = f"the connection broke off after {received.bytes / 1e6:.1f} MB ({_reason(e)})"
            raise SourceUnavailable(f"{what}: {said} ({shown})") from e
        log.info("%s: %.1f MB downloaded in %.1f s", what, received.bytes / 1e6, time.monotonic() - started)


def _check_head(head: bytes, what: str, url: str, gzipped: bool) -> None:
    if not head:
        raise SourceError(f"{what}: {url} answered with an empty body")
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise SourceError(f"{what}: {url} answered with an HTML page, not the data file: {head[:80]!r}")
    if gzipped and not head.startswith(GZIP_MAGIC):
        raise SourceError(f"{what}: {url} is not gzip-compressed (it starts with {head[:16]!r})")
