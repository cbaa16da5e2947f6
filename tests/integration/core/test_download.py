"""Downloads over real HTTP: the taxi file server of the stack, and stub servers for the failures."""

import gzip
import os
import time

import pytest
import requests

from taxi_flows.core import download
from taxi_flows.core.download import SourceError, open_source

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


def test_body_cut_short_of_its_length_is_a_transient_error(stub_http):
    def respond(handler, n):
        send(handler, 200, BODY[:1000], length=len(BODY))
        handler.close_connection = True

    url = stub_http(respond)
    with pytest.raises(ConnectionError, match="broke off after"):
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
    with pytest.raises(requests.HTTPError, match="answered 502"):
        fetch(f"{url}/x.csv.gz", http=download.session(2, 0.01))


def test_a_server_that_does_not_answer_times_out(stub_http, monkeypatch):
    monkeypatch.setattr(download, "TIMEOUT", (1, 0.3))
    url = stub_http(lambda h, n: time.sleep(30))  # accepts, never answers
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        fetch(f"{url}/x.csv.gz", http=download.session(1, 0))
    assert time.monotonic() - started < 10  # the read timeout, not the 30 s the server would take
