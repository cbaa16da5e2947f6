"""A month of the pickup-date dataset is committed as one step (taxi_flows.gcs.manifest): with the
GCS emulator stopped in the middle of a re-load's uploads and started again, every reader that goes
through the manifests (the daily export) still sees the previous load, whole; the retry replaces
it, whole, and deletes the files of the failed and the previous load."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from support.dagrun import gz_csv, sample_rows

from taxi_dev import procs
from taxi_flows import settings
from taxi_flows.core import lock_wait
from taxi_flows.gcs import daily, layout, manifest, month_lock, storage
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
    monthly_before = client.bucket(name).get_blob(layout.monthly_object("yellow", APRIL)).generation

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
    # As one task and its retry: the failed try cannot release the month's lock (GCS is down); the retry takes it.
    for key, value in {"DAG_ID": "taxi_web_to_gcs", "DAG_RUN_ID": "manual__2021-04", "TASK_ID": "load_trips"}.items():
        monkeypatch.setenv(f"AIRFLOW_CTX_{key}", value)
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
    assert client.bucket(name).get_blob(layout.monthly_object("yellow", APRIL)).generation == monthly_before

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


def month_state(client, bucket: str, month: dt.date) -> tuple[int, int, set, bool]:
    """(monthly file rows, manifest rows, the loads of the dataset's files, whether a lock is left)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    monthly = pq.read_metadata(
        pa.BufferReader(storage.download(client, bucket, layout.monthly_object("yellow", month)))
    )
    committed = manifest.read(client, bucket, "yellow", f"{month:%Y-%m}")[0]
    files = {layout.file_month_and_load(n) for n in storage.list_names(client, bucket, "yellow_tripdata/")}
    locked = storage.read_versioned(client, bucket, month_lock.lock_object("yellow", month))[0] is not None
    return monthly.num_rows, committed.rows, {load for m, load in files if m == f"{month:%Y-%m}"}, locked


def no_airflow_task(monkeypatch) -> None:
    """This process is no Airflow task: dag.test() runs of earlier tests leave AIRFLOW_CTX_* in its
    environment, and a load would take a lock of "its own" task for its retry's."""
    for key in ("DAG_ID", "DAG_RUN_ID", "TASK_ID"):
        monkeypatch.delenv(f"AIRFLOW_CTX_{key}", raising=False)


def test_two_loads_of_a_month_released_at_once_run_one_after_the_other(stack, bucket, serve, monkeypatch):
    from support.dagrun import log_messages

    no_airflow_task(monkeypatch)
    client, name = bucket
    june = dt.date(2021, 6, 1)
    header, rows = sample_rows("yellow", "2021-06", 3000)
    serve("yellow", "2021-06", gz_csv(header, rows))
    monkeypatch.setattr(lock_wait, "LOG_EVERY_SECONDS", 0.5)
    monkeypatch.setattr(month_lock, "POLL_SECONDS", 0.2)
    barrier, results = threading.Barrier(2), []

    def load():
        barrier.wait()
        results.append(web_to_gcs(client, name, stack.s.source_base_url, "yellow", june))

    with log_messages() as messages:
        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    assert len(results) == 2  # both succeeded: the second waited for the first, then replaced it
    last = max(results, key=lambda r: r["load_id"])
    assert any("waiting for another load of the month to finish" in m for m in messages), messages
    assert month_state(client, name, june) == (3000, 3000, {last["load_id"]}, False)
    assert last["stale_files_deleted"] == min(results, key=lambda r: r["load_id"])["partitions"]


# A load, as the task runs it, in a process of its own that stops itself (SIGSTOP) right after its commit.
PAUSED_AFTER_COMMIT = """
import datetime as dt, json, os, signal, sys
from taxi_flows.gcs import manifest, storage
from taxi_flows.gcs.web_to_gcs import web_to_gcs
real_commit = manifest.commit
def commit_then_pause(*args, **kwargs):
    uri = real_commit(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGSTOP)
    return uri
manifest.commit = commit_then_pause
summary = web_to_gcs(storage.client(), sys.argv[1], sys.argv[2], "yellow", dt.date(2021, 7, 1))
print(json.dumps({"load_id": summary["load_id"], "rows": summary["rows_written"]}))
"""


def stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def test_a_load_paused_after_its_commit_keeps_the_month_and_a_second_load_fails_naming_it(
    stack, bucket, serve, monkeypatch
):
    no_airflow_task(monkeypatch)
    client, name = bucket
    july = dt.date(2021, 7, 1)
    header, rows = sample_rows("yellow", "2021-07", 2000)
    serve("yellow", "2021-07", gz_csv(header, rows))
    env = {**os.environ, **stack.env(), "AIRFLOW_CTX_DAG_ID": "taxi_web_to_gcs", "AIRFLOW_CTX_DAG_RUN_ID": "manual__a"}
    env.pop("AIRFLOW_CTX_TASK_ID", None)
    argv = [sys.executable, "-c", PAUSED_AFTER_COMMIT, name, stack.s.source_base_url]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not stopped(first.pid):
            assert first.poll() is None, first.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the first load never reached its commit"
            time.sleep(0.1)
        committed = manifest.read(client, name, "yellow", "2021-07")[0]

        monkeypatch.setattr(settings, "LOCK_WAIT_SECONDS", 2)
        monkeypatch.setattr(month_lock, "POLL_SECONDS", 0.2)
        with pytest.raises(lock_wait.LockWaitTimeout) as failed:
            web_to_gcs(client, name, stack.s.source_base_url, "yellow", july)
        assert f"run 'taxi_web_to_gcs manual__a', pid {first.pid}" in str(failed.value)
        assert manifest.read(client, name, "yellow", "2021-07")[0] == committed  # the second changed nothing
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["load_id"] == committed.load_id
    assert month_state(client, name, july) == (2000, 2000, {committed.load_id}, False)


def test_the_monthly_file_is_replaced_only_if_no_other_writer_replaced_it_since_the_load_began(
    stack, bucket, serve, monkeypatch, tmp_path
):
    from google.api_core.exceptions import PreconditionFailed

    no_airflow_task(monkeypatch)
    client, name = bucket
    march = dt.date(2021, 3, 1)
    header, rows = sample_rows("yellow", "2021-03", 500)
    serve("yellow", "2021-03", gz_csv(header, rows))
    web_to_gcs(client, name, stack.s.source_base_url, "yellow", march)
    monthly = layout.monthly_object("yellow", march)
    other = tmp_path / "other.parquet"
    other.write_bytes(b"written by another writer")
    real_commit = manifest.commit

    def commit_then_another_writer(*args, **kwargs):
        uri = real_commit(*args, **kwargs)
        storage.upload(client, name, monthly, other)  # e.g. a user's copy, after this load began
        return uri

    monkeypatch.setattr(manifest, "commit", commit_then_another_writer)
    with pytest.raises(PreconditionFailed):
        web_to_gcs(client, name, stack.s.source_base_url, "yellow", march)
    assert storage.download(client, name, monthly) == other.read_bytes()  # not overwritten


def test_an_upload_is_the_file_in_one_request_and_honours_its_generation(bucket, tmp_path):
    from google.api_core.exceptions import PreconditionFailed

    client, name = bucket
    path = tmp_path / "f.parquet"
    path.write_bytes(os.urandom(3 << 20))
    assert storage.upload(client, name, "misc/upload-test", path, if_generation_match=0).endswith("misc/upload-test")
    generation = storage.generation(client, name, "misc/upload-test")
    assert storage.download(client, name, "misc/upload-test") == path.read_bytes()
    with pytest.raises(PreconditionFailed):
        storage.upload(client, name, "misc/upload-test", path, if_generation_match=0)  # it exists now
    path.write_bytes(b"second")
    storage.upload(client, name, "misc/upload-test", path, if_generation_match=generation)
    assert storage.download(client, name, "misc/upload-test") == b"second"
    assert storage.generation(client, name, "misc/nothing-here") == 0
