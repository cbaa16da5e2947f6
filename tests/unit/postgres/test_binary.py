import datetime as dt
import struct

import pyarrow as pa
import pytest

from taxi_flows.postgres import binary


def test_header_and_trailer():
    assert binary.HEADER == b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert binary.TRAILER == b"\xff\xff"


def test_one_row_byte_for_byte():
    batch = pa.record_batch(
        {
            "i": pa.array([7], pa.int64()),
            "f": pa.array([1.5]),
            "t": pa.array([dt.datetime(2000, 1, 1, 0, 0, 1)], pa.timestamp("us")),
            "d": pa.array([dt.date(2000, 1, 2)], pa.date32()),
            "s": pa.array(["Y"]),
            "n": pa.array([None], pa.int64()),
        }
    )
    expected = (
        struct.pack(">h", 6)
        + struct.pack(">iq", 8, 7)
        + struct.pack(">id", 8, 1.5)
        + struct.pack(">iq", 8, 1_000_000)  # microseconds since 2000-01-01
        + struct.pack(">ii", 4, 1)  # days since 2000-01-01
        + struct.pack(">i", 1)
        + b"Y"
        + struct.pack(">i", -1)  # NULL
    )
    assert binary.encode(batch) == expected


def test_rows_are_grouped_by_layout_but_none_is_lost():
    values = [None, 1, None, 2, 3]
    text = ["a", None, "bcd", "", "a"]
    batch = pa.record_batch({"i": pa.array(values, pa.int64()), "s": pa.array(text)})
    encoded = binary.encode(batch)
    # 5 rows: each has a 2-byte count, two 4-byte lengths, and its value bytes.
    assert len(encoded) == 5 * 10 + 3 * 8 + (1 + 3 + 0 + 1)
    assert binary.encode(batch.slice(2, 2)) == binary.encode(
        pa.record_batch({"i": pa.array([None, 2], pa.int64()), "s": pa.array(["bcd", ""])})
    )


def test_unsupported_type():
    with pytest.raises(TypeError, match="no binary COPY encoding"):
        binary.encode(pa.record_batch({"b": pa.array([True])}))
