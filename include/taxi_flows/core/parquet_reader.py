"""The TLC's Parquet files: downloaded to a local temporary file (a Parquet file is read from its
footer), then read a row group's batch at a time, each column fitted to its table's type.

The file's columns are checked against its period's layout (taxi_flows.core.layouts) by name: a
column the bundle does not know, or one the layout expects and the file lacks, fails the load,
naming it and where to map it. A column the layout drops (``__index_level_0__``, pandas' index in
some 2010 files) is left out, and the log says so.

Physical types drift from month to month; fit() takes each to its column's type, exactly or not at
all: an integer type of any width, or a double holding whole numbers (the counts and codes of the
files up to 2023-01), to bigint; a column typed null (airport_fee in 2020-10, ehail_fee 2019-09 …
2023-01, fhv's SR_Flag) to NULLs of the column's type; timestamps of any unit, or text in
``YYYY-MM-DD HH:MM:SS`` (2009), to microseconds; names where later files have codes (2009's vendor
"CMT", payment "Cash") to the codes, by the layout's code tables. A value that does not fit (a fractional passenger
count, 1e19 in a bigint, a time finer than a microsecond, text that is not a time) fails the load
naming the column, the month and the value: never rounded, wrapped or dropped in silence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from taxi_flows.core.body import SourceError
from taxi_flows.core.layouts import Layout
from taxi_flows.core.schema import Kind, TripSchema

log = logging.getLogger(__name__)

# Rows per batch: a row group is read in slices of this size. Three threads hold about four batches at a
# time (reader, monthly file, dataset): 48K rows peaked 30 MB lower than 64K for a full fhvhv month, as fast.
BATCH_ROWS = 49_152
MAGIC = b"PAR1"
_INT64_LIMIT = 2.0**63  # the first double beyond bigint
_EXACT_DOUBLE = 2**53  # integers beyond it do not all have a double


def footer_length(tail: bytes, what: str, url: str) -> int:
    """How many bytes at the end of a Parquet file its footer takes (metadata, its length, the
    magic), from the file's last bytes; SourceError when they are not a Parquet file's."""
    if len(tail) < 12 or tail[-4:] != MAGIC:
        raise SourceError(f"{what}: {url} is not a Parquet file (it does not end in {MAGIC!r})")
    return int.from_bytes(tail[-8:-4], "little") + 8


def footer_metadata(tail: bytes, what: str, url: str) -> pq.FileMetaData:
    """The file's metadata from its last bytes (at least footer_length() of them)."""
    try:
        return pq.read_metadata(pa.BufferReader(tail[-footer_length(tail, what, url) :]))
    except (pa.ArrowInvalid, OSError) as e:
        raise SourceError(f"{what}: {url} is not a readable Parquet file ({e})") from e


def row_group_end(metadata: pq.FileMetaData, group: int) -> int:
    """The offset just past a row group's column chunks: reading the row group needs the file up to there."""
    row_group = metadata.row_group(group)
    ends = []
    for i in range(row_group.num_columns):
        chunk = row_group.column(i)
        start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
        ends.append(start + chunk.total_compressed_size)
    return max(ends, default=0)


def text_columns(layout: Layout, sch: TripSchema) -> list[str]:
    """The file's names of the layout's text columns (those without a code table)."""
    return [name for name, target in layout.columns if sch.kind(target) is Kind.STRING and not layout.code_table(name)]


def open_parquet(
    path: Path, what: str, url: str, dictionaries: Iterable[str] = (), metadata: pq.FileMetaData | None = None
) -> pq.ParquetFile:
    """The file's reader; SourceError for a file that is not Parquet or is cut short.

    dictionaries: text columns to read as Arrow dictionaries, as the files store them (a few license
    numbers, bases and flags over millions of rows): in half the time Parquet's own decoding to text
    takes, and the transform checks a column's few distinct values, not every row, before it makes the
    column plain text (core.transform).

    metadata: the file's footer, read before the file (a download that is still arriving: the file
    at path has its final size, and its first 4 bytes are there)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(max(size - 4, 0))
        tail = f.read(4)
    if head != MAGIC:
        raise SourceError(f"{what}: {url} is not a Parquet file (it starts with {head!r})")
    if metadata is None and (size < 12 or tail != MAGIC):
        raise SourceError(f"{what}: {url} is a truncated Parquet file ({size:,} bytes and no footer)")
    try:
        # pre_buffer off: with it, pyarrow's read cache keeps every row group it read until the reader
        # is closed, and memory grows with the file (about 200 MB for 6M fhvhv rows).
        file = pq.ParquetFile(path, pre_buffer=False, metadata=metadata)
        schema = file.schema_arrow
        text = [n for n in dictionaries if n in schema.names and _is_text(schema.field(n).type)]
        return pq.ParquetFile(path, pre_buffer=False, metadata=file.metadata, read_dictionary=text) if text else file
    except (pa.ArrowInvalid, OSError) as e:
        raise SourceError(f"{what}: {url} is not a readable Parquet file ({e})") from e


def check_columns(found: list[str], layout: Layout, what: str) -> list[str]:
    """The file's columns to read (in the layout's order); SourceError for an unknown or missing one."""
    expected, dropped = layout.source_names, set(layout.dropped)
    unknown = [name for name in found if name not in expected and name not in dropped]
    missing = [name for name in expected if name not in found]
    where = f"the {layout.color} layout of {layout.period} in include/taxi_flows/core/layouts.py"
    if unknown:
        raise SourceError(
            f"{what}: the file has columns the bundle does not know: {unknown}. Nothing is dropped in silence: "
            f"map each onto a column of the {layout.color} table in {where} (a new column goes into "
            "include/taxi_flows/core/dictionary.py first)"
        )
    if missing:
        raise SourceError(f"{what}: the file lacks columns of {where}: {missing}")
    left_out = [name for name in found if name in dropped]
    if left_out:
        log.info("%s: left out %s, which %s drops (not trip data)", what, left_out, where)
    return expected


def fit(column: pa.Array, kind: Kind, name: str, what: str) -> pa.Array:
    """column as the Arrow type of kind, exactly; SourceError naming the first value that does not fit."""
    typ, target = column.type, kind.arrow()
    if pa.types.is_null(typ):
        return pa.nulls(len(column), target)
    if typ == target:
        return column
    if kind is Kind.STRING and pa.types.is_dictionary(typ) and _is_text(typ.value_type):
        # Text as the file stores it: the transform checks the few distinct values, then makes it plain text.
        return column if typ.value_type == target else column.cast(pa.dictionary(typ.index_type, target))
    try:
        if kind is Kind.INT and pa.types.is_floating(typ):
            _whole_numbers(column, name, what)
        if kind is Kind.FLOAT and pa.types.is_integer(typ):
            _bounded(column, _EXACT_DOUBLE, name, what, "exactly as a double")
        if kind is Kind.TIMESTAMP and (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            return _parsed_times(column, name, what)
        if _compatible(typ, kind):
            return pc.cast(column, target, safe=True)
    except pa.ArrowInvalid as e:
        raise SourceError(f"{what}: {name} ({typ}) does not fit the table's {kind.postgres} column: {e}") from e
    raise SourceError(f"{what}: {name} is {typ} in the file, which the table's {kind.postgres} column cannot hold")


def recode(column: pa.Array, codes: dict[str, object], kind: Kind, name: str, what: str) -> pa.Array:
    """A column of names (2009's "CMT", "Cash", 0/1 flags) as its table's codes; blank is NULL, a name
    not in the code table fails naming it."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
    text = pc.if_else(pc.fill_null(pc.equal(text, ""), False), pa.scalar(None, pa.string()), text)
    keys = list(codes)
    index = pc.index_in(text, value_set=pa.array(keys))
    unknown = pc.and_(pc.is_valid(text), pc.is_null(index))
    if pc.any(unknown).as_py():
        raise SourceError(
            f"{what}: {name} has {_first(text, unknown)!r}, which is not in its code table {keys} "
            "(include/taxi_flows/core/layouts.py): add it there with the code it stands for"
        )
    return pc.take(pa.array([codes[key] for key in keys], kind.arrow()), index)


def _is_text(typ: pa.DataType) -> bool:
    return pa.types.is_string(typ) or pa.types.is_large_string(typ)


def _compatible(typ: pa.DataType, kind: Kind) -> bool:
    if kind is Kind.INT:
        return pa.types.is_integer(typ) or pa.types.is_floating(typ)
    if kind is Kind.FLOAT:
        return pa.types.is_integer(typ) or pa.types.is_floating(typ)
    if kind is Kind.STRING:
        return _is_text(typ) or (pa.types.is_dictionary(typ) and _is_text(typ.value_type))
    if kind is Kind.TIMESTAMP:
        return (pa.types.is_timestamp(typ) and typ.tz is None) or pa.types.is_date(typ)
    return kind is Kind.DATE and (pa.types.is_date(typ) or pa.types.is_timestamp(typ))


def _first(column: pa.Array, mask: pa.Array):
    return column.filter(mask)[0].as_py()


def _whole_numbers(column: pa.Array, name: str, what: str) -> None:
    """A double column for a bigint: every value a whole number within bigint's range."""
    finite = pc.is_finite(column)
    if not pc.all(pc.fill_null(finite, True)).as_py():
        bad = pc.invert(pc.fill_null(finite, True))
        raise SourceError(f"{what}: {name} has {_first(column, bad)!r}, which a bigint column cannot hold")
    fractional = pc.fill_null(pc.not_equal(pc.floor(column), column), False)
    if pc.any(fractional).as_py():
        value = _first(column, fractional)
        raise SourceError(
            f"{what}: {name} has {value!r}, which is not a whole number: the table's column is bigint and the "
            "load does not round"
        )
    _bounded(column, _INT64_LIMIT, name, what, "as a bigint")


def _bounded(column: pa.Array, limit: float, name: str, what: str, how: str) -> None:
    big = pc.fill_null(pc.greater_equal(pc.abs(column), limit), False)
    if pc.any(big).as_py():
        raise SourceError(f"{what}: {name} has {_first(column, big)!r}, which cannot be stored {how}")


def _parsed_times(column: pa.Array, name: str, what: str) -> pa.Array:
    """Text times (yellow 2009) to timestamps: YYYY-MM-DD HH:MM:SS, NULL for a blank."""
    text = pc.cast(column, pa.string())
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), False)
    text = pc.if_else(blank, pa.scalar(None, pa.string()), text)
    parsed = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    failed = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    if pc.any(failed).as_py():
        raise SourceError(f"{what}: {name} has {_first(text, failed)!r}, which is not a time (YYYY-MM-DD HH:MM:SS)")
    return parsed


def parquet_batches(
    file: pq.ParquetFile, layout: Layout, sch: TripSchema, what: str, ready: Callable[[int], None] | None = None
) -> Iterator[pa.RecordBatch]:
    """The file's batches, a row group's slice at a time: the layout's columns, under the file's
    names, each fitted to its table column's type. ready(end), when given, is called before each row
    group and returns once the file holds its bytes up to end (a download still arriving)."""
    names = check_columns(file.schema_arrow.names, layout, what)
    targets = layout.targets
    codes = {name: layout.code_table(name) for name in names}

    # Without Arrow's thread pool: the loads read in a thread of their own beside one or two writers, and the
    # pool's threads only contended with them for the two cores.
    def row_group(group: int) -> Iterator[pa.RecordBatch]:
        if ready is not None:
            ready(row_group_end(file.metadata, group))
        yield from file.iter_batches(batch_size=BATCH_ROWS, row_groups=[group], columns=names, use_threads=False)

    batches = (batch for group in range(file.num_row_groups) for batch in row_group(group))
    for batch in batches:
        columns = []
        for name in names:
            kind = sch.kind(targets[name])
            column = batch.column(name)
            if codes[name] and not pa.types.is_null(column.type):
                columns.append(recode(column, codes[name], kind, name, what))
            else:
                columns.append(fit(column, kind, name, what))
        yield pa.RecordBatch.from_arrays(columns, names=names)
