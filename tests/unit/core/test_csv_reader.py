"""The one typed-CSV reader: the zone lookup goes through the same header check and typed parse
as the trip files (test_transform covers those)."""

import io

import pyarrow as pa
import pytest

from taxi_flows.core import schema
from taxi_flows.core.csv_reader import typed_table
from taxi_flows.core.download import SourceError

HEADER = [c.source for c in schema.ZONE_COLUMNS]
TYPES = {c.name: c.kind.arrow() for c in schema.ZONE_COLUMNS}


def zones(text: str) -> pa.Table:
    return typed_table(io.BytesIO(text.encode()), HEADER, TYPES, "taxi zone lookup", "zone")


def test_the_zone_lookup_parses_with_the_schema_s_names_and_types():
    table = zones(
        '"LocationID","Borough","Zone","service_zone"\n1,"EWR","Newark Airport","EWR"\n265,"Unknown","NA","N/A"\n'
    )
    assert table.column_names == ["location_id", "borough", "zone", "service_zone"]
    assert table.schema.field("location_id").type == pa.int64()
    assert table.column("zone").to_pylist() == ["Newark Airport", "NA"]  # "NA" is a zone's name, not a NULL


def test_a_changed_zone_header_is_named():
    with pytest.raises(SourceError, match=r"taxi zone lookup: the header does not match .*missing \['service_zone'\]"):
        zones("LocationID,Borough,Zone\n1,EWR,Newark Airport\n")


def test_a_zone_value_of_the_wrong_type_is_named():
    with pytest.raises(SourceError, match="does not parse with the zone schema's types"):
        zones("LocationID,Borough,Zone,service_zone\none,EWR,Newark Airport,EWR\n")


def test_an_empty_file_has_no_header():
    with pytest.raises(SourceError, match="the file is empty"):
        zones("")
