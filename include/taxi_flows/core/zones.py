"""The taxi zone lookup (misc/taxi_zone_lookup.csv) from the web, with the schema's names and types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from taxi_flows.core import schema, source
from taxi_flows.core.csv_reader import typed_table
from taxi_flows.core.download import open_source

if TYPE_CHECKING:
    import pyarrow as pa
    import requests

WHAT = "taxi zone lookup"


def web_zones(base_url: str, http: requests.Session | None = None) -> pa.Table:
    header = [c.source for c in schema.ZONE_COLUMNS]
    types = {c.name: c.kind.arrow() for c in schema.ZONE_COLUMNS}
    with open_source(source.zones_url(base_url), WHAT, gzipped=False, http=http) as stream:
        return typed_table(stream, header, types, WHAT, "zone")
