"""The monthly file uploaded in pieces while it is written (gcs.growing_upload), on the emulator:
composed into one object after the commit (in rounds, past GCS's 32 sources a compose), staged
pieces gone after a load, after a failed load, and those a killed load left."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.dagrun import gz_csv, sample_rows

from taxi_flows.core.download import SourceError
from taxi_flows.gcs import growing_upload, layout, storage
from taxi_flows.gcs.web_to_gcs import web_to_gcs

pytestmark = [pytest.mark.integration, pytest.mark.depends_on("google-clients", "arrow")]

MAY = dt.date(2021, 5, 1)
STAGING = layout.staging_prefix("yellow", MAY)


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(growing_upload, "PIECE_BYTES", 16 * 1024)
    monkeypatch.setattr(growing_upload, "COMPOSE_MAX", 4)  # 3 rounds of composes for this file's pieces


def test_the_pieces_compose_into_the_monthly_file_and_go(stack, bucket, serve, small_pieces, monkeypatch):
    client, name = bucket
    header, rows = sample_rows("yellow", "2021-05", 4000)
    serve("yellow", "2021-05", gz_csv(header, rows))
    dead = f"{STAGING}20200101T000000Z-dead00/part-00000"  # a piece a killed load left
    storage.upload_range(client, name, dead, Path(__file__), 0, 10)
    composed = []
    real = storage.compose
    monkeypatch.setattr(storage, "compose", lambda *a: composed.append(len(a[3])) or real(*a))

    summary = web_to_gcs(client, name, stack.s.source_base_url, "yellow", MAY)
    monthly = pq.read_table(pa.BufferReader(storage.download(client, name, layout.monthly_object("yellow", MAY))))
    assert monthly.num_rows == summary["rows_written"] == len(rows)
    assert len(composed) > 2  # in rounds of at most COMPOSE_MAX sources
    assert max(composed) <= 4
    assert storage.list_names(client, name, STAGING) == []  # this load's pieces, and the dead load's


def test_a_failed_load_leaves_no_piece_and_the_monthly_file_as_it_was(stack, bucket, serve, small_pieces):
    client, name = bucket
    header, rows = sample_rows("yellow", "2021-05", 1000)
    serve("yellow", "2021-05", gz_csv(header, rows))
    web_to_gcs(client, name, stack.s.source_base_url, "yellow", MAY)
    before = client.bucket(name).get_blob(layout.monthly_object("yellow", MAY)).generation

    header, rows = sample_rows("yellow", "2021-05", 4000)
    serve("yellow", "2021-05", gz_csv(header, rows)[:-200])  # truncated: found at the end, pieces sent by then
    with pytest.raises(SourceError, match="truncated"):
        web_to_gcs(client, name, stack.s.source_base_url, "yellow", MAY)
    assert storage.list_names(client, name, STAGING) == []
    assert client.bucket(name).get_blob(layout.monthly_object("yellow", MAY)).generation == before
