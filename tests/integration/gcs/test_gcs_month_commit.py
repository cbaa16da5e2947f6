"""A month of the pickup-date dataset is committed as one step (taxi_flows.gcs.manifest): with the
GCS emulator stopped in the middle of a re-load's uploads and started again, every reader that goes
through the manifests (the daily export) still sees the previous load, whole; the retry replaces
it, whole, and deletes the files of the failed and the previous load."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from support.dagrun import gz_csv, sample_rows

from taxi_dev import procs
from taxi_flows.gcs import daily, layout, manifest, storage
from taxi_flows.gcs.web_to_gcs import web_to_gcs

pytestmark = pytest.mark.integration

APRIL = dt.date(2021, 4, 1)
DAYS = [APRIL + dt.timedelta(days=d) for d in range(0, 30, 4)]


def daily_rows(client, bucket) -> dict[dt.date, int]:
    return {day: daily.daily_trips_to_gcs(client, bucket, "yellow", day)["rows"] for day in DAYS}


def loads(client, bucket) -> set[str | None]:
    return {layout.file_month_and_load(n)[1] for n in storage.list_names(client, bucket, "yellow_tripdata/")}


def test_gcs_stopped_mid_upload_leaves_readers_on_the_last_committed_load(stack, bucket, serve, monkeypatch):
    client, name = bucket
    header, rows = sample_rows("yellow", "2021-04", 3000)
    serve("yellow", "2021-04", gz_csv(header, rows))
    first = web_to_gcs(client, name, stack.s.source_base_url, "yellow", APRIL)
    before = daily_rows(client, name)
    monthly_before = client.bucket(name).get_blob(layout.monthly_object("yellow", APRIL)).md5_hash

    # A new version of the month (a third of the rows gone); the emulator stops after 4 uploads.
    # The uploads take turns until then, so that it stops between two objects: stopped in the middle of
    # writing one, the emulator (unlike GCS) may keep a half-written file, and then answers 404 for
    # every listing of the bucket, for the rest of the session.
    serve("yellow", "2021-04", gz_csv(header, [r for i, r in enumerate(rows) if i % 3]))
    real_upload, done, lock, stopped = storage.upload, [], threading.Lock(), threading.Event()

    def upload_then_stop(*args, **kwargs):
        with lock:
            if not stopped.is_set():
                result = real_upload(*args, **kwargs)
                done.append(args[2])
                if len(done) == 4:
                    procs.stop_pid_file(stack.s.run_dir / "fakegcs.pid")
                    stopped.set()
                return result
        return real_upload(*args, **kwargs)  # the emulator is down: fails as the client fails on a closed port

    monkeypatch.setattr(storage, "upload", upload_then_stop)
    monkeypatch.setattr(storage, "RETRY_SECONDS", 2)
    with pytest.raises(Exception):  # noqa: B017, PT011 - whichever error the client raises for a closed port
        web_to_gcs(client, name, stack.s.source_base_url, "yellow", APRIL)
    monkeypatch.setattr(storage, "upload", real_upload)
    stack.start_fakegcs()

    # Files of the failed load lie beside the first load's; no manifest names them.
    failed = [n for n in storage.list_names(client, name, "yellow_tripdata/") if first["load_id"] not in n]
    assert len(failed) >= 4
    assert len(loads(client, name)) == 2
    assert manifest.read(client, name, "yellow", "2021-04")[0].load_id == first["load_id"]
    # Every reader through the manifests sees the first load, whole; the monthly file is the first one.
    assert daily_rows(client, name) == before
    assert client.bucket(name).get_blob(layout.monthly_object("yellow", APRIL)).md5_hash == monthly_before

    # The retry: the new version, whole; the failed load's and the first load's files are deleted.
    second = web_to_gcs(client, name, stack.s.source_base_url, "yellow", APRIL)
    assert loads(client, name) == {second["load_id"]}
    assert second["stale_files_deleted"] == first["partitions"] + len(failed)
    after = daily_rows(client, name)
    assert sum(after.values()) < sum(before.values())
    assert all(0 < after[day] < before[day] for day in DAYS)


def test_a_load_older_than_the_committed_one_does_not_replace_it(stack, bucket, serve):
    client, name = bucket
    header, rows = sample_rows("yellow", "2021-05", 500)
    serve("yellow", "2021-05", gz_csv(header, rows))
    web_to_gcs(client, name, stack.s.source_base_url, "yellow", dt.date(2021, 5, 1))
    committed, _ = manifest.read(client, name, "yellow", "2021-05")
    older = manifest.Manifest("yellow", "2021-05", "20000101T000000000000Z-000000", 1, {})
    with pytest.raises(manifest.SupersededLoad, match=f"a newer load \\({committed.load_id}\\) committed"):
        manifest.commit(client, name, older)
    assert manifest.read(client, name, "yellow", "2021-05")[0] == committed
