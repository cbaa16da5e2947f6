"""Downloads over real HTTP: the taxi file server of the stack, and stub servers for the failures."""

import gzip
import os
import time

import pytest
import requests

from taxi_flows.core import body, download
from taxi_flows.core.download import SourceError, SourceUnavailable, open_source

pytestmark = pytest.mark.integration

BODY = gzip.compress(os.urandom(200_000))  # incompressible: 200 kB on the wire


def fetch(url: str, http=None) -> bytes:
    """The whole decompressed body of a gzipped source."""
    with open_source(url, "yellow 2021-01", gzipped=True, http=http) as stream:
        return stream.read()


def send(handler, status: int, body: bytes, content_type="application/octet-stream", length=None):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def test_follows_the_release_redirect(stack, files):
    url = f"{stack.s.source_base_url}/yellow/yellow_tripdata_2020-06.csv.gz"
    assert requests.get(url, allow_redirects=False, timeout=10).status_code == 302
    with open_source(url, "yellow 2020-06", gzipped=True) as stream:
        assert stream.readline().startswith(b"VendorID,tpep_pickup_datetime")


def test_404_names_the_month_and_url(stack):
    url = f"{stack.s.source_base_url}/yellow/yellow_tripdata_2030-01.csv.gz"
    with pytest.raises(SourceError, match=r"yellow 2030-01: the source file does not exist \(404.*2030-01\.csv\.gz"):  # noqa: SIM117
        with open_source(url, "yellow 2030-01", gzipped=True):
            pass


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"<!DOCTYPE html><html><body>rate limited</body></html>", "text/html; charset=utf-8", "HTML page"),
        (b"<!DOCTYPE html><html>oops</html>", "application/octet-stream", "HTML page"),
        (b"VendorID,tpep_pickup_datetime\n", "application/octet-stream", "not gzip-compressed"),
        (b"", "application/octet-stream", "empty body"),
    ],
)
def test_not_the_data_file(stub_http, body, content_type, message):
    url = stub_http(lambda h, n: send(h, 200, body, content_type))
    with pytest.raises(SourceError, match=message):
        fetch(f"{url}/x.csv.gz")


def test_truncated_gzip(stub_http):
    url = stub_http(lambda h, n: send(h, 200, BODY[: len(BODY) // 2]))
    with pytest.raises(SourceError, match=r"gzip stream .* is truncated"):
        fetch(f"{url}/x.csv.gz")


def test_corrupt_gzip(stub_http):
    """A gzip header over damaged deflate data: bad input in words, whichever inflater reads it (ISA-L's, zlib's)."""
    damaged = BODY[:20] + bytes(4096) + BODY[4116:]
    url = stub_http(lambda h, n: send(h, 200, damaged))
    with pytest.raises(SourceError, match=r"is not a valid gzip file"):
        fetch(f"{url}/x.csv.gz")


def test_body_cut_short_of_its_length_is_a_transient_error(stub_http):
    def respond(handler, n):
        send(handler, 200, BODY[:100_000], length=len(BODY))
        handler.close_connection = True

    url = stub_http(respond)
    with pytest.raises(SourceUnavailable, match=r"the server announced 0\.2 MB and sent 0\.1 MB"):
        fetch(f"{url}/x.csv.gz")


def test_transient_5xx_are_retried_with_back_off(stub_http):
    seen = []

    def respond(handler, n):
        seen.append(n)
        if n <= 2:
            send(handler, 503, b"busy", "text/plain")
        else:
            send(handler, 200, BODY)

    url = stub_http(respond)
    assert fetch(f"{url}/x.csv.gz", http=download.session(backoff=0.01)) == gzip.decompress(BODY)
    assert seen == [1, 2, 3]


def test_5xx_after_the_retries_fails_the_attempt_without_calling_it_bad_input(stub_http):
    url = stub_http(lambda h, n: send(h, 502, b"bad gateway", "text/plain"))
    with pytest.raises(SourceUnavailable, match=r"502 Bad Gateway from http://.* after 3 tries"):
        fetch(f"{url}/x.csv.gz", http=download.session(2, 0.01))


def test_a_server_that_does_not_answer_times_out(stub_http, monkeypatch):
    monkeypatch.setattr(download, "TIMEOUT", (1, 0.3))
    url = stub_http(lambda h, n: time.sleep(30))  # accepts, never answers
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"did not answer within 0\.3 s \(2 tries\)"):
        fetch(f"{url}/x.csv.gz", http=download.session(1, 0))
    assert time.monotonic() - started < 10  # the read timeout, not the 30 s the server would take


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, r"403 Forbidden from .*: the TLC answers 403 for a month it has not published yet"),
        (401, r"401 Unauthorized from .*: a client error, which no retry fixes"),
        (410, r"410 Gone from .*: a client error"),
    ],
)
def test_client_errors_fail_at_once_in_words(stub_http, status, message):
    calls = []
    url = stub_http(lambda h, n: (calls.append(n), send(h, status, b"no", "text/plain")))
    with pytest.raises(SourceError, match=message):
        fetch(f"{url}/x.csv.gz", http=download.session(3, 0.01))
    assert len(calls) == 1  # not retried


def test_429_waits_as_the_server_asks_and_says_so(stub_http, caplog):
    def respond(handler, n):
        if n == 1:
            handler.send_response(429)
            handler.send_header("Retry-After", "1")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            send(handler, 200, BODY)

    url = stub_http(respond)
    with caplog.at_level("WARNING", logger="taxi_flows"):
        assert fetch(f"{url}/x.csv.gz") == gzip.decompress(BODY)
    assert "429 Too Many Requests: waiting 1 s as the server asked" in caplog.text


def test_a_retry_after_longer_than_a_try_waits_fails_at_once(stub_http):
    def respond(handler, n):
        handler.send_response(429)
        handler.send_header("Retry-After", "3600")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = stub_http(respond)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"429 Too Many Requests from .*, retry after 3,600 s: longer than a try"):
        fetch(f"{url}/x.csv.gz")
    assert time.monotonic() - started < 5


def test_a_redirect_loop_fails_at_once(stub_http):
    def respond(handler, n):
        handler.send_response(302)
        handler.send_header("Location", f"/loop/{n}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = stub_http(respond)
    with pytest.raises(SourceError, match=r"redirect loop after 10 hops at http://"):
        fetch(f"{url}/x.csv.gz")


def test_a_stall_mid_body_is_a_read_timeout_in_words(stub_http, monkeypatch):
    monkeypatch.setattr(download, "TIMEOUT", (1, 0.5))

    def respond(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(BODY)))
        handler.end_headers()
        handler.wfile.write(BODY[:50_000])
        handler.wfile.flush()
        time.sleep(5)

    url = stub_http(respond)
    with pytest.raises(
        SourceUnavailable, match=r"the server stopped sending after 0\.1 MB for 0\.5 s \(read timeout\)"
    ):
        fetch(f"{url}/x.csv.gz")


def test_a_trickle_fails_the_try_with_the_bytes_received(stub_http, monkeypatch):
    monkeypatch.setattr(body, "STALL_SECONDS", 1.0)

    def respond(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(BODY)))
        handler.end_headers()
        handler.wfile.write(BODY[:1000])
        for i in range(1000, 1100):  # a byte every 0.1 s: never a read timeout
            handler.wfile.write(BODY[i : i + 1])
            handler.wfile.flush()
            time.sleep(0.1)

    url = stub_http(respond)
    started = time.monotonic()
    with pytest.raises(
        SourceUnavailable, match=r"too slow: the server sent [\d,]+ bytes in the last \d+ s \(0\.0 MB received in all"
    ):
        fetch(f"{url}/x.csv.gz")
    assert time.monotonic() - started < 8


def test_a_gzip_bomb_stops_at_the_inflation_limit(stub_http, monkeypatch):
    monkeypatch.setattr(body, "INFLATION_CHECKED_FROM", 1 << 20)
    bomb = gzip.compress(b"x" * (40 << 20))  # 40 MiB of one byte: about 40 kB gzipped
    url = stub_http(lambda h, n: send(h, 200, bomb))
    with pytest.raises(SourceError, match=r"inflates [\d,]+ times its compressed size"):
        fetch(f"{url}/x.csv.gz")
