"""The one way the bundle waits for a lock another load holds (a PostgreSQL month, a GCS month, the
coverage tables' creation): try, and while another holds it, log who every LOG_EVERY_SECONDS and
fail after settings.LOCK_WAIT_SECONDS naming the holder. Nothing is changed while waiting."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from taxi_flows import settings

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 30


class LockWaitTimeout(RuntimeError):
    """Another load held the lock for longer than a load waits."""


def wait_for_lock(
    take: Callable[[], bool],
    holder: Callable[[], str],
    what: str,
    poll: float,
    then: str,
    other: str = "another load of the month",
) -> None:
    """Call take() every `poll` seconds until it returns True (the lock is ours). holder() says who
    holds it, for the log and the error; `then` ends the error: what the user does about it."""
    started = time.monotonic()
    next_log = started
    while not take():
        waited = time.monotonic() - started
        if waited >= settings.LOCK_WAIT_SECONDS:
            raise LockWaitTimeout(
                f"{what}: {other} held it for {waited:.0f} s, the longest a load waits "
                f"(TAXI_LOCK_WAIT_SECONDS={settings.LOCK_WAIT_SECONDS}): {holder()}. Nothing was changed. {then}"
            )
        if time.monotonic() >= next_log:
            sentence = "%s: waiting for %s to finish: %s (%.0f s so far, at most %d)"
            log.info(sentence, what, other, holder(), waited, settings.LOCK_WAIT_SECONDS)
            next_log += LOG_EVERY_SECONDS
        time.sleep(poll)
