"""The taxi zone lookup (misc/taxi_zone_lookup.csv) from the web, with the schema's names and types,
checked before anything is replaced with it.

A lookup that is not the TLC's fails with SourceError (the task fails at once, without retries)
naming what differs: the header (csv_reader), LocationIDs that are blank, repeated, or not
exactly 1 … 265 (the TLC's current lookup), a borough outside KNOWN_BOROUGHS, a NUL byte in a
name. Every consumer reads it through web_zones: the PostgreSQL table, the GCS object BigQuery
loads, and the trip loads' location id check, so a bad lookup replaces none of them.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from taxi_flows.core import schema, source
from taxi_flows.core.csv_reader import typed_table
from taxi_flows.core.download import SourceError, open_source

if TYPE_CHECKING:
    import pyarrow as pa
    import requests

WHAT = "taxi zone lookup"
ZONE_IDS = range(1, 266)
# The TLC's boroughs, and the placeholders of zones 264/265 (the mirror: "Unknown"; the TLC since 2024: "N/A").
KNOWN_BOROUGHS = ("Bronx", "Brooklyn", "EWR", "Manhattan", "Queens", "Staten Island", "Unknown", "N/A")


def web_zones(base_url: str, http: requests.Session | None = None) -> pa.Table:
    header = [c.source for c in schema.ZONE_COLUMNS]
    types = {c.name: c.kind.arrow() for c in schema.ZONE_COLUMNS}
    url = source.zones_url(base_url)
    with open_source(url, WHAT, gzipped=False, http=http) as stream:
        table = typed_table(stream, header, types, WHAT, "zone")
    found = problems(table)
    if found:
        raise SourceError(f"{WHAT}: it is not the TLC's lookup, so nothing is replaced with it: " + "; ".join(found))
    return table


def _listed(values: list, most: int = 10) -> str:
    shown = ", ".join(map(str, values[:most]))
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def problems(table: pa.Table) -> list[str]:
    """Every way the lookup differs from the TLC's, as a sentence; empty when it is one."""
    import pyarrow.compute as pc

    found = []
    ids = table.column("location_id").to_pylist()
    if None in ids:
        found.append(f"{ids.count(None)} rows without a LocationID")
    present = [i for i in ids if i is not None]
    repeated = sorted(i for i, n in Counter(present).items() if n > 1)
    if repeated:
        found.append(f"LocationID repeated: {_listed(repeated)}")
    missing = sorted(set(ZONE_IDS) - set(present))
    if missing:
        found.append(f"LocationID missing: {_listed(missing)} (expected {ZONE_IDS[0]} … {ZONE_IDS[-1]})")
    extra = sorted(set(present) - set(ZONE_IDS))
    if extra:
        found.append(f"LocationID not in {ZONE_IDS[0]} … {ZONE_IDS[-1]}: {_listed(extra)}")
    boroughs = sorted({b for b in table.column("borough").to_pylist() if b not in KNOWN_BOROUGHS}, key=str)
    if boroughs:
        found.append(f"unknown borough(s) {_listed(boroughs)} (known: {', '.join(KNOWN_BOROUGHS)})")
    for name in ("borough", "zone", "service_zone"):
        nul = pc.sum(pc.match_substring(table.column(name), "\x00")).as_py() or 0
        if nul:
            found.append(f"a NUL byte in {name} of {nul} rows")
    return found
