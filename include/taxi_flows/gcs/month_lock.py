"""One load of a month into GCS at a time: the lock object ``<color>_tripdata_manifests/<YYYY-MM>.lock``.

A load creates it before it downloads anything, with the precondition "only if it does not exist"
(ifGenerationMatch=0), and deletes it when it ends; it names its holder (the Airflow run and task,
host, pid, since when). A second load of the month waits for it as core.lock_wait waits (the holder
logged, at most settings.LOCK_WAIT_SECONDS, then an error naming it); nothing is changed while it
waits. Serialised so, whichever load commits last is the month, and the monthly file and the dataset
hold that same load.

A lock left by a load that died (a killed worker never deletes it) is taken over by the same task's
retry at once, and by any other load once it is older than settings.LOCK_STALE_SECONDS (or deleted
by hand: the error names it). A holder
checks, just before its commit, that the lock is still its own (Lease.check): one that was taken
over (paused past the bound, say) fails without committing, so a load that lost the month never
reports success.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from taxi_flows import settings
from taxi_flows.core.lock_wait import wait_for_lock
from taxi_flows.gcs import layout, storage

if TYPE_CHECKING:
    from google.cloud.storage import Client

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0


class LostLock(RuntimeError):
    """The month's lock was taken over while this load ran: it must not commit."""


def lock_object(color: str, month: dt.date) -> str:
    return f"{layout.manifests_prefix(color)}{month:%Y-%m}.lock"


def _me() -> dict:
    from taxi_flows.postgres.connection import airflow_run_name

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {"run": airflow_run_name() or "", "host": socket.gethostname(), "pid": os.getpid(), "since": now}


def describe(holder: dict) -> str:
    run = f"run {holder['run']!r}, " if holder.get("run") else ""
    return f"{run}pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('since')}"


@dataclass
class Lease:
    client: Client
    bucket: str
    name: str
    generation: int
    what: str

    def check(self) -> None:
        """LostLock unless the lock is still this load's (call it just before the commit)."""
        data, generation = storage.read_versioned(self.client, self.bucket, self.name)
        if generation != self.generation:
            taker = describe(json.loads(data)) if data else "nobody (it was deleted)"
            raise LostLock(
                f"{self.what}: this load lost the month's lock while it ran (it is now held by {taker}); it did "
                "not commit, and the month holds the other load"
            )


def _age_seconds(holder: dict) -> float:
    try:
        since = dt.datetime.fromisoformat(holder["since"])
    except (KeyError, TypeError, ValueError):
        return float("inf")
    return (dt.datetime.now(dt.UTC) - since).total_seconds()


@contextmanager
def holding(client: Client, bucket: str, color: str, month: dt.date, what: str) -> Iterator[Lease]:
    """Hold the month's lock for the block (see the module's docstring); yields its Lease."""
    from google.api_core.exceptions import NotFound, PreconditionFailed

    name, me = lock_object(color, month), _me()
    data, seen = json.dumps(me).encode(), {"holder": None, "generation": 0}

    def take() -> bool:
        current, generation = storage.read_versioned(client, bucket, name)
        holder = seen["holder"] = json.loads(current) if current else None
        mine = holder is not None and bool(me["run"]) and holder.get("run") == me["run"]  # this task's retry
        if not (holder is None or mine or _age_seconds(holder) > settings.LOCK_STALE_SECONDS):
            return False
        if holder is not None:
            log.warning("%s: taking over the month's lock from %s, which never released it", what, describe(holder))
        try:
            seen["generation"] = storage.write_if_generation(client, bucket, name, data, generation)
        except PreconditionFailed:  # another load came first: wait for it
            return False
        return True

    then = f"Once it has ended, run this one again ({layout.uri(bucket, name)} names the holder)"
    wait_for_lock(take, lambda: describe(seen["holder"] or {}), what, POLL_SECONDS, then)
    generation = seen["generation"]
    try:
        yield Lease(client, bucket, name, generation, what)
    finally:
        try:
            storage.delete_if_generation(client, bucket, name, generation)
        except (NotFound, PreconditionFailed):  # taken over: the lock is someone else's now
            pass
        except Exception as e:  # GCS down: never hide the load's own error
            log.warning(
                "%s: could not release the month's lock %s (%s): this task's retry takes it over at once, "
                "another load once it is %d s old",
                what,
                layout.uri(bucket, name),
                type(e).__name__,
                settings.LOCK_STALE_SECONDS,
            )
