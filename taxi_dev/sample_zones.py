"""The sample zone lookup (misc/taxi_zone_lookup.csv): 265 zones, quoted like the real file."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from taxi_flows.core import schema

_BOROUGHS = ["Manhattan", "Queens", "Brooklyn", "Bronx", "Staten Island"]
_NAMED = {
    1: ("EWR", "Newark Airport", "EWR"),
    132: ("Queens", "JFK Airport", "Airports"),
    138: ("Queens", "LaGuardia Airport", "Airports"),
    161: ("Manhattan", "Midtown Center", "Yellow Zone"),
    236: ("Manhattan", "Upper East Side North", "Yellow Zone"),
    237: ("Manhattan", "Upper East Side South", "Yellow Zone"),
    264: ("Unknown", "NV", "N/A"),
    265: ("Unknown", "NA", "N/A"),
}


def write_zones(path: Path) -> Path:
    """The zone lookup: 265 zones, quoted like the real file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow([c.source for c in schema.ZONE_COLUMNS])
        for zone_id in range(1, 266):
            borough = _BOROUGHS[zone_id % len(_BOROUGHS)]
            service = "Yellow Zone" if borough == "Manhattan" else "Boro Zone"
            writer.writerow([zone_id, *_NAMED.get(zone_id, (borough, f"{borough} zone {zone_id}", service))])
    tmp.replace(path)
    return path
