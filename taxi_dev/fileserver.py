"""A local stand-in for the DataTalksClub release downloads and the TLC's CloudFront, over real HTTP.

Like GitHub, it answers the release paths with a redirect to where the bytes are; like CloudFront,
it serves the TLC's Parquet files at once:

    GET /<type>/<type>_tripdata_<YYYY>-<MM>.csv.gz    ->  302  /assets/<type>/<file>
    GET /misc/taxi_zone_lookup.csv                     ->  302  /assets/misc/taxi_zone_lookup.csv
    GET /assets/<path>                                 ->  200  the bytes (Content-Length,
                                                                Last-Modified and ETag set)
    GET /trip-data/<type>_tripdata_<YYYY>-<MM>.parquet ->  200  the bytes; 403 for a month the TLC
                                                                has not published (the last two)

A Range header of one range gets 206 and those bytes (a Parquet reader asks for the footer first).

Files come from the data folder. A month of the mirror (yellow, green, fhv 2019-01 … 2021-07,
fhvhv from 2019-02) or of the TLC (taxi_dev.tlc_files: each period's layout) and the zone lookup
that is not there is generated on first request (small, deterministic sample), so every month
exists and an unpaused DAG can catch up. Other paths get a 404, as GitHub's.

    python -m taxi_dev.fileserver --port 28088 --data-dir .local/files [--rows 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import shutil
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from taxi_dev import sample_data, tlc_files
from taxi_flows.core import layouts, schema, source
from taxi_flows.core.months import month_start

_TLC = re.compile(r"^trip-data/(?P<color>[a-z]+)_tripdata_(?P<month>\d{4}-\d{2})\.parquet$")
ACCESS_DENIED = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>'
PUBLICATION_DELAY_MONTHS = 2  # the TLC publishes a month about two months after it ends


def published(month: dt.date, today: dt.date | None = None) -> bool:
    """Whether the TLC has published the month by today: it has, once two months have passed since."""
    today = today or dt.datetime.now(dt.UTC).date()
    return (today.year * 12 + today.month) - (month.year * 12 + month.month) > PUBLICATION_DELAY_MONTHS


_TRIP = re.compile(r"^(?P<color>[a-z]+)/(?P=color)_tripdata_(?P<month>\d{4}-\d{2})\.csv\.gz$")
ASSETS = "/assets/"


class TaxiFileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], data_dir: Path, rows: int):
        super().__init__(address, Handler)
        self.data_dir = data_dir.resolve()
        self.rows = rows
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def refuse_once(self, rel: str) -> bool:
        """Fault injection for the tests: a file <path>.403 holding N answers 403 to the next N
        requests of <path> (a month the TLC publishes while a run waits for it)."""
        marker = (self.data_dir / f"{rel}.403").resolve()
        with self._guard:
            if not marker.is_relative_to(self.data_dir) or not marker.is_file():
                return False
            left = int(marker.read_text().strip() or 0)
            if left <= 0:
                return False
            marker.write_text(str(left - 1))
            return True

    def locate(self, rel: str) -> Path | None:
        """The file for a release path, generated if it is a sample the server can make; else None."""
        path = (self.data_dir / rel).resolve()
        if not path.is_relative_to(self.data_dir):
            return None
        if path.is_file():
            return path
        with self._guard:
            lock = self._locks.setdefault(rel, threading.Lock())
        with lock:
            if path.is_file():
                return path
            if rel == source.ZONES_PATH:
                return sample_data.write_zones(path)
            tlc = _TLC.match(rel)
            if tlc and tlc["color"] in schema.COLORS:
                month = month_start(tlc["month"])
                try:
                    layouts.layout_of(tlc["color"], layouts.TLC, month)
                except ValueError:
                    return None
                return tlc_files.write_tlc(path, tlc["color"], month, self.rows)
            match = _TRIP.match(rel)
            if match and match["color"] in schema.COLORS:
                month = month_start(match["month"])
                try:
                    layouts.layout_of(match["color"], layouts.MIRROR, month)  # the mirror's months of the type
                except ValueError:
                    return None
                return sample_data.write_trips(path, match["color"], month, self.rows)
        return None


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int]:
    """(first, last) byte of a Range header's one range ("bytes=a-b", "bytes=a-", "bytes=-n"), as
    CloudFront answers it; the whole file for none, or for one it cannot serve."""
    match = _RANGE.fullmatch((header or "").strip())
    if not match or size == 0 or match.groups() == ("", ""):
        return 0, size - 1
    start, end = match.groups()
    if not start:  # the last n bytes
        return max(size - int(end), 0), size - 1
    first, last = int(start), min(int(end), size - 1) if end else size - 1
    return (first, last) if first <= last else (0, size - 1)


class _Limited(io.RawIOBase):
    """The next n bytes of a file."""

    def __init__(self, file, n: int):
        self.file, self.left = file, n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self.file.readinto(memoryview(buffer)[: min(len(buffer), self.left)]) or 0
        self.left -= n
        return n


class Handler(BaseHTTPRequestHandler):
    server: TaxiFileServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (40 ms on Linux) at every request; real servers answer at once.
    disable_nagle_algorithm = True

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            return self._send(HTTPStatus.OK, b"ok\n", "text/plain", body)
        tlc = _TLC.match(path.lstrip("/"))
        if tlc and (not published(month_start(tlc["month"])) or self.server.refuse_once(path.lstrip("/"))):
            return self._send(HTTPStatus.FORBIDDEN, ACCESS_DENIED, "application/xml", body)
        if path.startswith(ASSETS) or tlc:
            file = self.server.locate(path[len(ASSETS) :] if not tlc else path.lstrip("/"))
            if file is None:
                return self._send(HTTPStatus.NOT_FOUND, b"Not Found", "text/plain", body)
            stat = file.stat()
            first, last = byte_range(self.headers.get("Range"), stat.st_size)
            partial = (first, last) != (0, stat.st_size - 1)
            self.send_response(HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(last - first + 1))
            if partial:
                self.send_header("Content-Range", f"bytes {first}-{last}/{stat.st_size}")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Last-Modified", formatdate(stat.st_mtime, usegmt=True))
            self.send_header("ETag", f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"')
            self.end_headers()
            if body:
                with open(file, "rb") as f:
                    f.seek(first)
                    shutil.copyfileobj(io.BufferedReader(_Limited(f, last - first + 1)), self.wfile, 1 << 20)
            return None
        if self.server.locate(path.lstrip("/")) is None:
            return self._send(HTTPStatus.NOT_FOUND, b"Not Found", "text/plain", body)
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", ASSETS + path.lstrip("/"))
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def _send(self, status: HTTPStatus, payload: bytes, content_type: str, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=sample_data.SMALL_ROWS, help="rows of a generated month")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    server = TaxiFileServer((args.host, args.port), args.data_dir, args.rows)
    print(f"serving {args.data_dir} on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
