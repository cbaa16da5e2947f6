"""The daily export, independent of Airflow: the trips picked up on one day, cut out of the
pickup-date dataset (the committed file of each source month in that date partition, as the
months' manifests say: gcs.manifest) as one Parquet object."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from taxi_flows.core.download import SourceError
from taxi_flows.core.report import log_summary
from taxi_flows.core.schema import trip_schema
from taxi_flows.gcs import layout, manifest, storage
from taxi_flows.gcs.parquet import RowGroupWriter

if TYPE_CHECKING:
    from google.cloud.storage import Client

log = logging.getLogger(__name__)


def daily_trips_to_gcs(client: Client, bucket: str, color: str, day: dt.date) -> dict:
    """The trips picked up on day as <color>/YYYY/MM/DD/daily-trips.parquet with the full schema,
    in pickup order; an empty file with the schema when there are none in a month that is loaded.
    SourceError when the day's month has no committed load: an export of nothing would look done."""
    sch = trip_schema(color)
    file_schema = sch.arrow_schema.remove(sch.arrow_schema.get_field_index(sch.pickup_date))
    prefix = layout.partition_prefix(color, day)
    listed = sorted(n for n in storage.list_names(client, bucket, prefix) if n.endswith(".parquet"))
    try:
        names, ignored = manifest.current_files(client, bucket, color, day, listed)
    except FileNotFoundError as e:
        raise SourceError(str(e)) from e
    if ignored:
        sentence = "%s %s: ignored %d file(s) of loads that did not commit or were replaced: %s"
        log.info(sentence, color, day, len(ignored), ignored)
    if not names:
        _check_month_loaded(client, bucket, color, day, listed)
    tables = []
    for name in names:
        try:
            tables.append(pq.read_table(pa.BufferReader(storage.download(client, bucket, name)), schema=file_schema))
        except (pa.ArrowInvalid, ValueError) as e:
            raise SourceError(f"{layout.uri(bucket, name)} does not match the {color} schema: {e}") from e
    table = pa.concat_tables(tables) if tables else file_schema.empty_table()
    dates = pa.array(np.full(table.num_rows, np.datetime64(day, "D")))
    table = table.append_column(sch.arrow_schema.field(sch.pickup_date), dates).select(sch.names)
    table = table.sort_by(sch.pickup_datetime).cast(sch.arrow_schema)
    with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
        writer = RowGroupWriter(Path(tmp) / "daily.parquet", sch.arrow_schema)
        for batch in table.to_batches():
            writer.add(batch)
        daily_uri = storage.upload(client, bucket, layout.daily_object(color, day), writer.close())
    summary = {
        "color": color,
        "day": day.isoformat(),
        "uri": daily_uri,
        "rows": table.num_rows,
        "source_files": names,
    }
    facts = {**summary, "files": len(names), "source": layout.uri(bucket, prefix)}
    if names:
        log_summary(log, f"{color} {day}", "wrote {rows:,} trips from {files} file(s) of {source} to {uri}", facts)
    else:
        sentence = (
            "no trips were picked up that day (the month is loaded, and nothing of it is under {source}): "
            "wrote an empty file with the schema to {uri}"
        )
        log_summary(log, f"{color} {day}", sentence, facts, logging.WARNING)
    return summary


def _check_month_loaded(client: Client, bucket: str, color: str, day: dt.date, listed: list[str]) -> None:
    """SourceError unless the day's month has a committed load (a manifest, or a file of the month
    written before loads had manifests)."""
    month = f"{day:%Y-%m}"
    committed, _ = manifest.read(client, bucket, color, month)
    legacy = any((layout.file_month_and_load(name) or ("", ""))[0] == month for name in listed)
    if committed is None and not legacy:
        where = layout.uri(bucket, layout.manifest_object(color, month))
        raise SourceError(
            f"{color} {month} is not in GCS (no committed load: {where} does not exist), so {day} has nothing to "
            f"export: run taxi_web_to_gcs for {month} with params.colors [{color!r}] first, then clear this run"
        )
