"""The coverage page's one database connection (the connection taxi_postgres), kept open between
requests and used by one request at a time, on a thread of its own.

The api-server serves Airflow's own API from the same process and thread pool: a burst of page
requests must not take them. So a request waits for the page's connection without holding a
thread (it awaits), at most PAGE_QUEUE requests wait (the others get 503 at once), none waits more
than PAGE_WAIT_SECONDS (then 503), and every query of the page ends within PAGE_STATEMENT_SECONDS
(PostgreSQL's statement_timeout; the connection is read-only too). A broken connection is opened
again by the next request.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from taxi_flows import settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from psycopg import Connection

log = logging.getLogger(__name__)
T = TypeVar("T")
APPLICATION_NAME = "taxi_flows coverage page"


class Busy(Exception):
    """The page's connection is taken by as many requests as may wait, or one waited too long: a 503."""


class PageReader:
    def __init__(
        self,
        connect: Callable[[], Connection] | None = None,
        queue: int = settings.PAGE_QUEUE,
        wait_seconds: float = settings.PAGE_WAIT_SECONDS,
        statement_seconds: float = settings.PAGE_STATEMENT_SECONDS,
    ):
        self._connect = connect or _connect
        self._queue, self._wait, self._statement_ms = queue, wait_seconds, int(statement_seconds * 1000)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="taxi-coverage-page")
        self._conn: Connection | None = None
        self._waiting = 0

    async def run(self, work: Callable[[Connection], T]) -> T:
        """work(connection) on the page's thread, once the requests before it are done."""
        if self._waiting >= self._queue:
            raise Busy(f"{self._waiting} requests already wait for the coverage page's database connection")
        self._waiting += 1
        try:
            job = asyncio.get_running_loop().run_in_executor(self._thread, self._call, work)
            return await asyncio.wait_for(job, self._wait)  # a request not started yet is dropped on timeout
        except TimeoutError:
            raise Busy(f"the coverage page's database connection was busy for {self._wait:.0f} s") from None
        finally:
            self._waiting -= 1

    def _call(self, work: Callable[[Connection], T]) -> T:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self._connect()
            self._conn.execute(f"SET statement_timeout = {self._statement_ms}")
            self._conn.execute("SET default_transaction_read_only = on")
        try:
            return work(self._conn)
        except Exception:
            if self._conn.broken:
                log.warning("the coverage page's database connection broke: the next request opens another")
                self._conn = None
            raise


def _connect() -> Connection:
    from taxi_flows.postgres.connection import open_connection

    return open_connection(settings.POSTGRES_CONN_ID, APPLICATION_NAME)
