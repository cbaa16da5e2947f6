"""A month of the pickup-date dataset, committed as one step.

A load writes the month's files under names of its own (layout.partition_file_name(month, load)),
which no reader below picks up until the month's manifest (layout.manifest_object) names them:
writing that one object is the commit. Then the month's files of earlier loads are deleted. The
daily export reads each month of a date partition through its manifest, so whatever failed in
between (GCS down mid-upload, a killed task, a failed clean-up) it reads one load of each month,
never a mix. Files of a month that has no manifest were written before loads had ids, and are read
as they are.

Two loads of one month never run at once (gcs.month_lock: the second waits for the first). Behind
that, the manifest is still written with a compare-and-swap on its generation: a load that finds a
newer manifest fails without writing, and a load deletes only the files of loads older than its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from taxi_flows.gcs import layout, storage

if TYPE_CHECKING:
    from google.cloud.storage import Client


@dataclass
class Manifest:
    color: str
    month: str  # YYYY-MM
    load_id: str
    rows: int
    # pickup date (YYYY-MM-DD) -> object names: one, or a few where rows of a date came after its first
    # file went up (a manifest written before the lists has one name per date: parse() reads it so)
    files: dict[str, list[str]]
    committed_at: str = ""
    source: dict = field(default_factory=dict)  # the source file's facts (SourceFacts.summary(); {} before)

    def names(self) -> list[str]:
        """Every object name the manifest commits."""
        return [name for names in self.files.values() for name in names]


def parse(data: bytes) -> Manifest:
    """A manifest object's content, whichever version of the bundle wrote it."""
    fields = json.loads(data)
    fields["files"] = {day: [n] if isinstance(n, str) else list(n) for day, n in fields["files"].items()}
    return Manifest(**fields)


class SupersededLoad(RuntimeError):
    """A newer load of the month committed first: this one must not replace it."""


def read(client: Client, bucket: str, color: str, month: str) -> tuple[Manifest | None, int]:
    """The month's manifest and its generation ((None, 0) when the month has none)."""
    data, generation = storage.read_versioned(client, bucket, layout.manifest_object(color, month))
    return (parse(data) if data else None), generation


def commit(client: Client, bucket: str, manifest: Manifest) -> str:
    """Make manifest's files the month's current ones (one object write); its gs:// URI."""
    from google.api_core.exceptions import PreconditionFailed

    current, generation = read(client, bucket, manifest.color, manifest.month)
    what = f"{manifest.color} {manifest.month}"
    if current and current.load_id > manifest.load_id:
        raise SupersededLoad(f"{what}: a newer load ({current.load_id}) committed while this one ran")
    manifest.committed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    data = json.dumps(asdict(manifest), indent=1, sort_keys=True).encode()
    name = layout.manifest_object(manifest.color, manifest.month)
    try:
        storage.write_if_generation(client, bucket, name, data, generation)
        return layout.uri(bucket, name)
    except PreconditionFailed as e:
        raise SupersededLoad(f"{what}: another load committed while this one ran; the retry decides") from e


def stale(names: list[str], month: str, load_id: str) -> list[str]:
    """The month's files (among names) of loads older than load_id, or of no load."""
    out = []
    for name in names:
        parsed = layout.file_month_and_load(name)
        if parsed and parsed[0] == month and (parsed[1] is None or parsed[1] < load_id):
            out.append(name)
    return out


def current_files(client: Client, bucket: str, color: str, day: dt.date, names: list[str]) -> tuple[list, list]:
    """Of a date partition's files (names), those of each month's committed load, and the others
    (files of a load that did not commit, or that a later load replaced)."""
    by_month: dict[str, list[str]] = defaultdict(list)
    for name in names:
        parsed = layout.file_month_and_load(name)
        if parsed:
            by_month[parsed[0]].append(name)
    current, ignored = [], []
    for month, files in sorted(by_month.items()):
        manifest, _ = read(client, bucket, color, month)
        if manifest is None:  # written before loads had ids: the month's one file per date
            chosen = [n for n in files if layout.file_month_and_load(n)[1] is None]
        else:
            wanted = manifest.files.get(day.isoformat(), [])
            for name in wanted:
                if name not in files:
                    missing = layout.uri(bucket, name)
                    raise FileNotFoundError(f"{missing}, named by the {color} {month} manifest, is missing")
            chosen = [n for n in files if n in wanted]
        current += chosen
        ignored += [n for n in files if n not in chosen]
    return current, ignored
