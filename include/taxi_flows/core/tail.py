"""The last bytes of a file on the web, by a range request: a Parquet file's footer before its
body (core.month_file reads the row groups while the rest of the file arrives). A server that does
not answer the range (no range support, an error) gets None: the whole download that follows says
what is wrong, in core.download's words."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from taxi_flows.core.body import SourceFacts
from taxi_flows.core.download import TIMEOUT, session

TAIL_BYTES = 1 << 20  # what a range request for a Parquet file's footer asks for first
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class Tail:
    """The last bytes of a file on the web, and what the server said of the whole file."""

    data: bytes
    size: int  # of the whole file (Content-Range)
    etag: str | None
    last_modified: str | None

    def same_file(self, facts: SourceFacts) -> bool:
        """Whether a response (its facts) is of the file this tail came from."""
        if self.etag and facts.etag:
            return self.etag == facts.etag
        return self.last_modified == facts.last_modified


def fetch_tail(url: str, nbytes: int = TAIL_BYTES, http: requests.Session | None = None) -> Tail | None:
    """The last nbytes of url (a Parquet file's footer) by a range request; None when the server does
    not answer it with that range (no range support, an error: the whole download that follows says
    what is wrong, in its words)."""
    http = http or session()
    try:
        response = http.get(url, headers={"Range": f"bytes=-{nbytes}"}, stream=True, timeout=TIMEOUT)
    except requests.RequestException:
        return None
    with response:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if response.status_code != 206 or not match:
            return None
        first, last, size = map(int, match.groups())
        if last != size - 1 or last - first + 1 > nbytes:
            return None
        try:
            data = response.raw.read(last - first + 1, decode_content=True)
        except (Urllib3Error, requests.RequestException, OSError):
            return None
        if len(data) != last - first + 1:
            return None
        return Tail(data, size, response.headers.get("ETag"), response.headers.get("Last-Modified"))
