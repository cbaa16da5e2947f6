"""One colour's month file on the web, as every month workflow reads it: streamed once,
decompressed and parsed with the schema's types, transformed as the course does, and checked.

A target's use case (taxi_flows.postgres.web_to_postgres, taxi_flows.gcs.web_to_gcs) writes the
batches somewhere local or into a transaction, calls check() with what it wrote, and only then
replaces the month in its target.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from taxi_flows.core import quality, schema, source
from taxi_flows.core.download import open_source
from taxi_flows.core.report import log_summary
from taxi_flows.core.transform import TripStats, trip_batches
from taxi_flows.core.zones import web_zones

if TYPE_CHECKING:
    import pyarrow as pa
    import requests

log = logging.getLogger(__name__)

RULES_SENTENCE = (
    "{rows_read:,} rows read; removed {removed_passenger_count:,} with passenger_count blank or not > 0 and "
    "{removed_trip_distance:,} with trip_distance blank or not > 0; {rows_kept:,} kept; {unknown_vendor:,} with "
    "a vendor_id other than 1 or 2; {out_of_month_pickups:,} picked up outside the month"
)
PLAUSIBILITY_SENTENCE = "plausibility of the rows kept: " + "; ".join(
    f"{{{field}:,}} with {what} (" + (f"at most {share:.1%}" if share else "none allowed") + ")"
    for field, what, share in quality.PLAUSIBILITY
)


class MonthFile:
    """One colour's month file on the web: its transformed batches, streamed once, and the checks
    on what was seen (the statistics of every batch that went by)."""

    def __init__(self, base_url: str, color: str, month: dt.date, http: requests.Session | None = None):
        self.sch = schema.trip_schema(color)
        self.month = month
        self.what = f"{color} {month:%Y-%m}"
        self.base_url = base_url
        self.url = source.trip_url(base_url, color, month)
        self.stats = TripStats(color=color, month=f"{month:%Y-%m}")
        self.http = http

    @contextmanager
    def batches(self) -> Iterator[Iterator[pa.RecordBatch]]:
        """The transformed batches. The zone lookup (for the location id check) is read once the
        month file answered, so a missing month names the month's URL."""
        with open_source(self.url, self.what, gzipped=True, http=self.http) as stream:
            zone_ids = web_zones(self.base_url, self.http).column("location_id").combine_chunks().drop_null()
            yield trip_batches(stream, self.sch, self.month, self.stats, self.what, zone_ids)

    def check(self, rows_written: int, rows_not_positive: int = 0) -> None:
        """Log what each rule removed, then run the data-quality checks (DataQualityError)."""
        summary = self.stats.summary()
        log_summary(log, self.what, RULES_SENTENCE, summary)
        log_summary(log, self.what, PLAUSIBILITY_SENTENCE, summary)
        quality.check(self.stats, rows_written, rows_not_positive)
