"""One colour's month file on the web, as every month workflow reads it: streamed once,
decompressed and parsed with the schema's types, transformed as the course does (every row kept),
and checked.

A target's use case (taxi_flows.postgres.web_to_postgres, taxi_flows.gcs.web_to_gcs) writes the
batches somewhere local or into a transaction, calls check() with what it wrote, and only then
replaces the month in its target. summary() is what the load saw: the rows, the course's cleaning's
counts, the checks' counts and the source file's facts (URL, bytes, Last-Modified, ETag).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from taxi_flows.core import layouts, quality, schema, source
from taxi_flows.core.download import SourceFacts, SourceUnavailable, open_source
from taxi_flows.core.redact import redact
from taxi_flows.core.report import log_summary
from taxi_flows.core.streams import Arrival, DownloadFailed
from taxi_flows.core.tail import Tail, fetch_tail
from taxi_flows.core.transform import TripStats, transformed, trip_batches
from taxi_flows.core.zones import web_zones
from taxi_flows.settings import DEFAULT_TLC_BASE_URL

if TYPE_CHECKING:
    import pyarrow as pa
    import requests

log = logging.getLogger(__name__)

SOURCE_SENTENCE = (
    "{source_name} ({source_layout} layout) {source_url}: {source_bytes:,} bytes, {source_uncompressed_bytes:,} "
    "uncompressed, {rows_read:,} data rows (Last-Modified {source_last_modified}, ETag {source_etag})"
)
FOR_HIRE_SENTENCE = (
    "every one of the {rows_read:,} rows is loaded (the course does not clean for-hire trips); "
    "{out_of_month_pickups:,} picked up outside the month"
)
RULES_SENTENCE = (
    "every one of the {rows_read:,} rows is loaded; the course's cleaning (the views <color>_tripdata_clean) "
    "would remove {cleaning_removes_passenger_count:,} with passenger_count blank or not > 0 and "
    "{cleaning_removes_trip_distance:,} more with trip_distance blank or not > 0, keeping {rows_clean:,}; "
    "{blank_vendor:,} rows of the blank dispatch tail (VendorID blank), {unknown_vendor:,} with a vendor_id "
    f"other than {quality.VENDOR_CODES}; {{out_of_month_pickups:,}} picked up outside the month"
)
PLAUSIBILITY_SENTENCE = "plausibility of the rows: " + "; ".join(
    f"{{{field}:,}} with {what} (" + (f"at most {share:.1%}" if share else "none allowed") + ")"
    for field, what, share in quality.PLAUSIBILITY
)


class MonthFile:
    """One trip type's month file on the web: its transformed batches, streamed once, and the checks
    on what was seen (the statistics of every batch that went by)."""

    def __init__(
        self,
        base_url: str,
        color: str,
        month: dt.date,
        http: requests.Session | None = None,
        tlc_base_url: str = DEFAULT_TLC_BASE_URL,
        source_name: str | None = None,
    ):
        """base_url: the mirror's (and the zone lookup's); tlc_base_url: the TLC's Parquet files;
        source_name: the run's conf key source (None: the mirror where it has the month, else the TLC)."""
        self.sch = schema.trip_schema(color)
        self.month = month
        self.what = f"{color} {month:%Y-%m}"
        self.base_url = base_url
        self.source_name = source.choose(color, month, source_name)
        self.layout = layouts.layout_of(color, self.source_name, month)
        if self.source_name == layouts.MIRROR:
            self.url = source.trip_url(base_url, color, month)
        else:
            self.url = source.tlc_trip_url(tlc_base_url, color, month)
        self.stats = TripStats(color=color, month=f"{month:%Y-%m}")
        named = self.layout.code_table("vendor_name") or self.layout.code_table("vendor_id") or {}
        self.stats.known_vendors = tuple(sorted({*self.stats.known_vendors, *named.values()}))
        self.source = SourceFacts()
        self.http = http

    @contextmanager
    def batches(self, blocks_per_batch: int = 1) -> Iterator[Iterator[pa.RecordBatch]]:
        """The transformed batches (of a CSV file: blocks_per_batch parsed blocks each, joined; a
        Parquet file's are its row groups). The zone lookup (for the location id check) is read once the
        month file answered, so a missing month names the month's URL. A Parquet file is read from
        its footer: where the server answers a range request, the footer comes first and the row
        groups are read while the rest of the file arrives; otherwise the whole file is downloaded
        first. Either way to a temporary file, read a row group at a time."""
        if self.source_name == layouts.MIRROR:
            with open_source(self.url, self.what, gzipped=True, http=self.http, facts=self.source) as stream:
                zone_ids = self._zone_ids()
                yield trip_batches(
                    stream, self.layout, self.sch, self.month, self.stats, self.what, zone_ids, blocks_per_batch
                )
            return
        from taxi_flows.core import parquet_reader

        with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
            path = Path(tmp) / "month.parquet"
            tail = self._footer()
            if tail is not None:
                with self._arriving(path, tail) as (file, ready):
                    yield self._transformed(file, ready)
                return
            opened = open_source(self.url, self.what, gzipped=False, http=self.http, facts=self.source)
            with opened as stream, open(path, "wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
            text = parquet_reader.text_columns(self.layout, self.sch)
            yield self._transformed(parquet_reader.open_parquet(path, self.what, self.source.url, text))

    def _transformed(self, file, ready=None) -> Iterator[pa.RecordBatch]:
        from taxi_flows.core import parquet_reader

        meta = file.metadata
        rows = f"{meta.num_rows:,}"
        log.info("%s: %s rows in %d row groups (%s)", self.what, rows, meta.num_row_groups, self.layout.period)
        parsed = parquet_reader.parquet_batches(file, self.layout, self.sch, self.what, ready)
        zone_ids = self._zone_ids()
        return transformed(parsed, self.layout, self.sch, self.month, self.stats, self.what, zone_ids)

    def _footer(self) -> Tail | None:
        """The file's last bytes, its footer whole, by range requests; None where the server answers none."""
        from taxi_flows.core import parquet_reader

        tail = fetch_tail(self.url, http=self.http)
        if tail is None:
            return None
        shown = redact(self.url)
        need = parquet_reader.footer_length(tail.data, self.what, shown)
        if need > len(tail.data) and need <= tail.size:
            whole = fetch_tail(self.url, need, http=self.http)
            if whole is None or (whole.etag, whole.size) != (tail.etag, tail.size):
                return None
            tail = whole
        return tail if need <= len(tail.data) else None

    @contextmanager
    def _arriving(self, path: Path, tail: Tail):
        """(the Parquet file at path, ready) while the file's body arrives there in a thread of its own:
        ready(end) waits for its first end bytes. A download that fails fails the read in its own words
        (open_source's); a file replaced at its URL since its footer came fails the try."""
        from taxi_flows.core import parquet_reader

        with open(path, "wb") as out:
            out.truncate(tail.size)  # its final size: the reader knows where each row group lies
        arrival = Arrival()
        thread = None
        try:
            with open_source(self.url, self.what, gzipped=False, http=self.http, facts=self.source) as stream:
                try:
                    if not tail.same_file(self.source):
                        raise SourceUnavailable(
                            f"{self.what}: {self.source.url} changed while it was read (ETag {tail.etag} then "
                            f"{self.source.etag}): the next try reads it again"
                        )
                    thread = threading.Thread(
                        target=_download_into, args=(stream, path, tail.size, arrival), name="taxi-flows-download"
                    )
                    thread.start()
                    arrival.wait(4)
                    text = parquet_reader.text_columns(self.layout, self.sch)
                    meta = parquet_reader.footer_metadata(tail.data, self.what, self.source.url)
                    file = parquet_reader.open_parquet(path, self.what, self.source.url, text, metadata=meta)
                    yield file, arrival.wait
                    arrival.wait(tail.size)  # the rest (the footer, read first): every byte counted and checked
                except DownloadFailed as e:
                    raise (e.__cause__ or e) from None  # open_source's words: cut short, timed out, ...
        finally:
            if thread is not None:
                thread.join()  # the response is closed by now: a read still waiting returns or fails

    def _zone_ids(self):
        return web_zones(self.base_url, self.http).column("location_id").combine_chunks().drop_null()

    def summary(self) -> dict:
        """What the load saw: TripStats.summary() and the source file's facts (source_*)."""
        layout = f"{self.source_name} {self.layout.period}"
        origin = {"source_name": self.source_name, "source_layout": layout}
        return {**self.stats.summary(), **self.source.measure().summary(), **origin}

    def check(self, rows_written: int, rows_clean_written: int | None = None) -> None:
        """Log the source's facts and the counts, then run the data-quality checks
        (DataQualityError): rows_written must be the file's rows, rows_clean_written (when the
        target counted it) the rows of the course's cleaning."""
        summary = self.summary()
        log_summary(log, self.what, SOURCE_SENTENCE, summary)
        log_summary(log, self.what, RULES_SENTENCE if self.sch.clean_condition else FOR_HIRE_SENTENCE, summary)
        log_summary(log, self.what, PLAUSIBILITY_SENTENCE, summary)
        quality.check(self.stats, rows_written, rows_clean_written)


def _download_into(stream, path: Path, size: int, arrival: Arrival) -> None:
    """Copy the response body stream into path from its start, telling arrival as it goes; a body
    of another size than the footer's file fails it."""
    written = 0
    try:
        with open(path, "r+b", buffering=0) as out:
            while chunk := stream.read1(1 << 20):  # what has arrived, not a full MiB: the reader may be waiting
                written += len(chunk)
                if written > size:
                    break
                out.write(chunk)
                arrival.arrived(len(chunk))
        if written != size:
            raise SourceUnavailable(
                f"the file's body has {written:,}{'+' if written > size else ''} bytes, its footer's file {size:,}: "
                "it changed while it was read; the next try reads it again"
            )
    except BaseException as e:  # raised where the reader waits (DownloadFailed), then in the load's words
        arrival.failed(e)
