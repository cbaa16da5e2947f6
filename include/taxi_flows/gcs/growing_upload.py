"""The monthly Parquet file uploaded while it is written, then published in one step.

A Parquet writer only appends: the bytes of a growing file never change once written. So as soon as
the local file holds another PIECE_BYTES, a background thread uploads them as a component object
under ``<color>_tripdata_staging/<YYYY-MM>/<load>/`` (one request each, read from the file when
sent: memory holds one piece); the tail follows the file's close. Nothing a reader sees changes:
publish() composes the components into the monthly object (GCS's compose: one atomic write of
the destination, server-side) after the month's commit, then deletes them; abort() deletes them.
Components a killed load left are deleted by the month's next load (clear_leftovers).

The upload of the largest object of a month so overlaps its encoding, and no piece is rewritten:
a resumable upload in pieces makes the GCS emulator rewrite the whole object at each piece.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from taxi_flows.gcs import layout, storage

if TYPE_CHECKING:
    from google.cloud.storage import Client

log = logging.getLogger(__name__)

PIECE_BYTES = 16 * 1024 * 1024
COMPOSE_MAX = 32  # sources per compose request (GCS's limit)


class GrowingUpload:
    def __init__(self, client: Client, bucket: str, color: str, month: dt.date, load_id: str, path: Path):
        self.client, self.bucket, self.path = client, bucket, path
        self.prefix = f"{layout.staging_prefix(color, month)}{load_id}/"
        self.components: list[str] = []
        self._sent = 0
        self._futures: list[Future] = []
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="taxi-flows-monthly-upload")

    def poll(self) -> None:
        """Send the pieces the file holds in full by now (call it after each write)."""
        self._send(os.path.getsize(self.path), final=False)

    def finish(self) -> None:
        """After the file's close: send the rest, and wait until every piece is uploaded."""
        self._send(os.path.getsize(self.path), final=True)
        for future in self._futures:
            future.result()

    def publish(self, name: str) -> str:
        """The components as the object `name` (composed, in groups of COMPOSE_MAX), then deleted."""
        sources, made = self.components, []
        while len(sources) > 1 or (sources and sources[0] != name):
            groups = [sources[i : i + COMPOSE_MAX] for i in range(0, len(sources), COMPOSE_MAX)]
            last = len(groups) == 1
            targets = [name] if last else [f"{self.prefix}compose-{len(made) + i:04d}" for i in range(len(groups))]
            for target, group in zip(targets, groups, strict=True):
                storage.compose(self.client, self.bucket, target, group)
            made += [] if last else targets
            sources = targets
        self._thread.shutdown()
        storage.delete(self.client, self.bucket, self.components + made)
        return layout.uri(self.bucket, name)

    def abort(self) -> None:
        """Stop, and delete what was uploaded (never hiding the load's own error)."""
        for future in self._futures:
            future.cancel()
        self._thread.shutdown(wait=True)
        with contextlib.suppress(Exception):
            storage.delete(self.client, self.bucket, self.components)

    def _send(self, size: int, final: bool) -> None:
        while size - self._sent >= PIECE_BYTES or (final and size > self._sent):
            length = min(PIECE_BYTES, size - self._sent)
            name = f"{self.prefix}part-{len(self.components):05d}"
            self.components.append(name)
            args = (self.client, self.bucket, name, self.path, self._sent, length)
            self._futures.append(self._thread.submit(storage.upload_range, *args))
            self._sent += length
        for future in [f for f in self._futures if f.done()]:
            future.result()  # an upload's error at once, not at the end


def clear_leftovers(client: Client, bucket: str, color: str, month: dt.date) -> int:
    """Delete the components a load of the month that never finished left (the caller holds the
    month's lock: no other load of it is running). Returns how many."""
    names = storage.list_names(client, bucket, layout.staging_prefix(color, month))
    if names:
        log.info("deleting %d staged pieces of an earlier load of the month that did not finish", len(names))
        storage.delete(client, bucket, names)
    return len(names)
