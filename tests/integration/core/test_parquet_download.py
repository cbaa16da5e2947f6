"""A TLC Parquet file read while it downloads, over real HTTP from stub servers: the footer first
by a range request, the row groups as their bytes arrive; a server that answers no range, a body
cut short, and a file replaced between its footer and its body."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from taxi_dev import tlc_files
from taxi_flows.core.body import SourceUnavailable
from taxi_flows.core.month_file import MonthFile

pytestmark = [pytest.mark.integration, pytest.mark.depends_on("arrow")]

MONTH, ROWS = dt.date(2024, 1, 1), 5_000


@pytest.fixture(scope="module")
def parquet(tmp_path_factory) -> bytes:
    """A yellow 2024-01 file in the TLC's layout, in row groups of 500 rows."""
    path = tmp_path_factory.mktemp("tlc") / "yellow_tripdata_2024-01.parquet"
    saved = tlc_files.ROW_GROUP_ROWS
    tlc_files.ROW_GROUP_ROWS = 500
    try:
        tlc_files.write_tlc(path, "yellow", MONTH, ROWS)
    finally:
        tlc_files.ROW_GROUP_ROWS = saved
    return path.read_bytes()


def answer(handler, data: bytes, etag: str = '"v1"', send: int | None = None, pause=None) -> None:
    """The file as a server with ranges answers it: the last bytes for `Range: bytes=-n`, else all of
    it (only its first `send` bytes, when given; `pause` called half-way)."""
    size = len(data)
    wanted = handler.headers.get("Range", "")
    if wanted.startswith("bytes=-"):
        first = max(size - int(wanted.removeprefix("bytes=-")), 0)
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {first}-{size - 1}/{size}")
        body = data[first:]
    else:
        handler.send_response(200)
        body = data
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("ETag", etag)
    handler.end_headers()
    if wanted:
        handler.wfile.write(body)
        return
    half = size // 2
    handler.wfile.write(body[:half])
    handler.wfile.flush()
    if pause:
        pause()
    handler.wfile.write(body[half : send if send is not None else size])
    if send is not None:
        handler.close_connection = True


def month_file(stack, url: str) -> MonthFile:
    return MonthFile(stack.s.source_base_url, "yellow", MONTH, tlc_base_url=url, source_name="tlc")


def rows_of(src: MonthFile, on_batch=None) -> int:
    rows = 0
    with src.batches() as batches:
        for batch in batches:
            rows += batch.num_rows
            if on_batch:
                on_batch()
    return rows


def test_row_groups_are_read_while_the_rest_of_the_file_arrives(stack, stub_http, parquet):
    # The server sends half the file, then waits for the reader to have a batch: it has, from the
    # first row groups' bytes (and the footer, which a range request brought first).
    read_one, waited = threading.Event(), []
    url = stub_http(lambda h, n: answer(h, parquet, pause=lambda: waited.append(read_one.wait(30))))
    src = month_file(stack, url)
    assert rows_of(src, on_batch=read_one.set) == ROWS
    assert waited == [True]  # a batch came before the second half was sent
    assert (src.source.bytes, src.source.etag) == (len(parquet), '"v1"')


def test_a_server_without_ranges_gets_the_whole_file_first(stack, stub_http, parquet):
    def whole(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(parquet)))
        handler.end_headers()
        handler.wfile.write(parquet)

    assert rows_of(month_file(stack, stub_http(whole))) == ROWS


def test_a_body_cut_short_fails_the_try_in_words(stack, stub_http, parquet):
    url = stub_http(lambda h, n: answer(h, parquet, send=len(parquet) * 3 // 4))
    with pytest.raises(SourceUnavailable, match=r"yellow 2024-01: the server announced [\d.]+ MB and sent [\d.]+ MB"):
        rows_of(month_file(stack, url))


def test_a_file_replaced_between_its_footer_and_its_body_fails_the_try(stack, stub_http, parquet):
    url = stub_http(lambda h, n: answer(h, parquet, etag='"v1"' if "Range" in h.headers else '"v2"'))
    with pytest.raises(SourceUnavailable, match=r'changed while it was read \(ETag "v1" then "v2"\)'):
        rows_of(month_file(stack, url))
