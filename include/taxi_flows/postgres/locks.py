"""Strong locks on a table readers use, taken briefly: every statement that needs one (the swap of
a month, DDL) runs in a transaction whose lock requests time out after LOCK_TIMEOUT. A request
that times out gives way to the readers queued behind it, then tries again after a pause.

Why: PostgreSQL queues lock requests. A swap waiting for ACCESS EXCLUSIVE behind one long query
would otherwise make every new reader of the table wait behind the swap, for as long as that
query runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import psycopg
from psycopg import Connection, sql

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "1s"  # the longest a swap (or DDL) makes readers of the table wait behind it
SWAP_ATTEMPTS = 40  # then the task fails (and its retries take over): ~3 minutes behind a long reader
BACKOFF_SECONDS = (0.1, 5.0)  # first and longest pause between attempts


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
