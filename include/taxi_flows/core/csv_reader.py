"""The one typed-CSV reader, for the trip files and the zone lookup alike.

The header line is checked against the expected columns (names and order), then the rest is
parsed with the schema's types, a block (BLOCK_SIZE of CSV text) at a time, and yielded a block
(or a few) to a batch: memory holds the blocks Arrow's reader reads ahead (at most 32) and a batch,
whatever the size of the file. A changed header or a value that does not
parse raises SourceError, naming the file. Lines are bounded: the header at MAX_HEADER_BYTES, a
data line at BLOCK_SIZE (a real month's lines are a few hundred bytes): a file with a longer line,
or none at all, fails without reading further.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from taxi_flows.core.download import SourceError

if TYPE_CHECKING:
    import pyarrow as pa

BLOCK_SIZE = 1 << 20  # bytes of CSV text parsed at a time: Arrow's reader reads up to 32 blocks ahead
MAX_HEADER_BYTES = 64 << 10


def read_header(stream: BinaryIO, what: str) -> list[str]:
    """The column names of the first line (the stream is left at the start of the second)."""
    line = stream.readline(MAX_HEADER_BYTES + 1)
    if len(line) > MAX_HEADER_BYTES:
        raise SourceError(
            f"{what}: the first line is longer than {MAX_HEADER_BYTES // 1024} KiB: not a header (a month file's is "
            "about 200 bytes)"
        )
    if not line.strip():
        raise SourceError(f"{what}: the file is empty (no header line)")
    return next(csv.reader([line.decode("utf-8-sig", errors="replace").strip()]))


def check_header(found: list[str], expected: list[str], what: str) -> None:
    if found == expected:
        return
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    detail = []
    if missing:
        detail.append(f"missing {missing}")
    if unexpected:
        detail.append(f"unexpected {unexpected}")
    if not detail:
        detail.append(f"columns out of order: {found}")
    raise SourceError(f"{what}: the header does not match the expected columns ({'; '.join(detail)})")


def typed_batches(
    stream: BinaryIO,
    header: list[str],
    types: dict[str, pa.DataType],
    what: str,
    schema_name: str,
    blocks_per_batch: int = 1,
) -> Iterator[pa.RecordBatch]:
    """Check the header line against `header`, then yield the rows as batches (of up to
    blocks_per_batch parsed blocks, joined) whose columns are named and typed by `types` (in the
    header's order). A blank field is NULL."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    check_header(read_header(stream, what), header, what)
    try:
        reader = pacsv.open_csv(
            stream,  # positioned after the header line
            read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE, use_threads=True, column_names=list(types)),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        group: list[pa.RecordBatch] = []
        while True:
            try:
                group.append(reader.read_next_batch())
            except StopIteration:
                break
            if len(group) == blocks_per_batch:
                yield pa.concat_batches(group)
                group = []
        if group:
            yield pa.concat_batches(group)
    except pa.ArrowInvalid as e:
        if "Empty CSV" in str(e):  # nothing after the header line
            raise SourceError(f"{what}: the file has a header line and no rows") from e
        if "straddling object" in str(e):  # a line longer than a block
            raise SourceError(
                f"{what}: a line is longer than {BLOCK_SIZE // 2**20} MiB (a month file's are a few hundred bytes)"
            ) from e
        raise SourceError(f"{what}: the file does not parse with the {schema_name} schema's types: {e}") from e


def typed_table(stream: BinaryIO, header: list[str], types: dict[str, pa.DataType], what: str, schema_name: str):
    """The whole file as one table (for small files: the zone lookup)."""
    import pyarrow as pa

    batches = list(typed_batches(stream, header, types, what, schema_name))
    return pa.Table.from_batches(batches, schema=pa.schema(list(types.items())))
