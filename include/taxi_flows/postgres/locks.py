"""The locks a load takes, each waited for with a bound.

- Strong locks on a table readers use, taken briefly: every statement that needs one (the swap of
  a month, DDL) runs in a transaction whose lock requests time out after LOCK_TIMEOUT. A request
  that times out gives way to the readers queued behind it, then tries again after a pause. Why:
  PostgreSQL queues lock requests. A swap waiting for ACCESS EXCLUSIVE behind one long query would
  otherwise make every new reader of the table wait behind the swap, for as long as that query runs.
- One load of a month at a time (month_lock, an advisory lock): a second load of the same month
  waits for the first, before it downloads anything (core.lock_wait), logging which backend (pid,
  and the Airflow run in its application_name) holds the month, and fails after
  settings.LOCK_WAIT_SECONDS naming it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import Connection, sql

from taxi_flows.core.lock_wait import wait_for_lock

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "1s"  # the longest a swap (or DDL) makes readers of the table wait behind it
SWAP_ATTEMPTS = 40  # then the task fails (and its retries take over): ~3 minutes behind a long reader
BACKOFF_SECONDS = (0.1, 5.0)  # first and longest pause between attempts
POLL_SECONDS = 1.0

# The backend holding a two-key advisory lock (pg_locks shows the keys as oids: classid, objid).
_HOLDER = """
SELECT a.pid, a.application_name, a.state, date_trunc('second', now() - a.xact_start)::text
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid = (hashtext(%(key)s)::bigint & 4294967295)::text::oid AND l.objid = %(number)s::text::oid
"""


def holder(conn: Connection, key: str, number: int) -> str:
    """Who holds the advisory lock (key, number), for a log line."""
    row = conn.execute(_HOLDER, {"key": key, "number": number}).fetchone()
    if row is None:
        return "a backend that has just released it"
    pid, app, state, running = row
    run = f", {app!r}" if app else ""
    return f"PostgreSQL backend pid {pid}{run} ({state}, in a transaction for {running or 'no time'})"


@contextmanager
def month_lock(conn: Connection, key: str, number: int, what: str) -> Iterator[None]:
    """Hold the session advisory lock (hashtext(key), number) for the block: one load of a month at
    a time. Waits as core.lock_wait does (bounded, the holder logged, then LockWaitTimeout)."""
    wait_for_lock(
        lambda: conn.execute("SELECT pg_try_advisory_lock(hashtext(%s), %s)", [key, number]).fetchone()[0],
        lambda: holder(conn, key, number),
        what,
        POLL_SECONDS,
        "If that load is stuck, end it (its task, or SELECT pg_terminate_backend(pid)), then run this one again",
    )
    try:
        yield
    finally:
        if not conn.closed:
            try:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [key, number])
            except psycopg.Error:  # a lost connection has released it already; never hide the load's error
                log.warning("%s: could not release the month's lock (the connection's end releases it)", what)


def under_lock_timeout(conn: Connection, what: str, statements: Callable[[], None]) -> int:
    """Run statements() in a transaction whose locks wait at most LOCK_TIMEOUT; on a lock timeout,
    roll back, pause (exponential back-off) and try again, at most SWAP_ATTEMPTS times. Returns
    the number of attempts that gave way."""
    pause, longest = BACKOFF_SECONDS
    error: Exception | None = None
    for attempt in range(SWAP_ATTEMPTS):
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
                statements()
            return attempt
        except psycopg.errors.LockNotAvailable as e:
            error = e
            log.info("%s: the table is in use; trying again in %.1f s", what, pause)
            time.sleep(pause)
            pause = min(pause * 2, longest)
    raise RuntimeError(
        f"{what}: the table stayed in use through {SWAP_ATTEMPTS} attempts to lock it (a long query? see "
        "pg_stat_activity); nothing was changed"
    ) from error
