"""Whether the TLC has published a month yet: its Parquet file answers a HEAD request with 200.

The TLC publishes a month about two months after it ends; until then the file's URL answers 403
(CloudFront's answer for an object that does not exist yet), sometimes 404. A month's runs wait
for it (orchestration.tasks.wait_until_published) until settings.PUBLICATION_WAIT_DAYS after the
month ended, then fail naming the month and the URL.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from taxi_flows.core.body import SourceError, SourceUnavailable
from taxi_flows.core.months import next_month
from taxi_flows.core.redact import MASK, redact

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

NOT_YET = (403, 404)  # what CloudFront answers for a month not published yet


def deadline(month: dt.date, wait_days: int) -> dt.datetime:
    """When waiting for a month ends: wait_days after the month ended (UTC)."""
    return dt.datetime.combine(next_month(month), dt.time(), dt.UTC) + dt.timedelta(days=wait_days)


def status(url: str, what: str, http: requests.Session | None = None) -> int:
    """The HTTP status of a HEAD request for url (redirects followed): 200 when it is published."""
    import requests as _requests

    from taxi_flows.core.download import TIMEOUT, session

    try:
        response = (http or session()).head(url, timeout=TIMEOUT, allow_redirects=True)
    except _requests.RequestException as e:
        why = redact(str(e))
        raise SourceUnavailable(f"{what}: could not ask {redact(url)} whether it is published ({why})") from e
    if response.status_code not in (200, *NOT_YET) and response.status_code < 500:
        raise SourceError(f"{what}: {redact(url)} answered {response.status_code} to a HEAD request")
    if response.status_code >= 500:
        raise SourceUnavailable(f"{what}: {redact(url)} answered {response.status_code}")
    return response.status_code


def replaced(loads: dict[tuple[str, str], dict], http: requests.Session | None = None) -> list[str]:
    """The loaded months whose source file changed at its URL since the load (another ETag or
    Last-Modified, by a HEAD request now), one sentence each. A file that cannot be asked about (a
    URL whose secrets were redacted from the summary, a server that does not answer) is skipped."""
    from taxi_flows.core.download import TIMEOUT, session

    http = http or session(retries=1)
    found = []
    for (color, month), load in sorted(loads.items()):
        summary = load["summary"]
        url, etag, modified = (summary.get(k) for k in ("source_url", "source_etag", "source_last_modified"))
        if not url or MASK in url or not (etag or modified):
            continue
        try:
            response = http.head(url, timeout=TIMEOUT, allow_redirects=True)
        except Exception as e:
            log.info("%s %s: could not ask %s whether it changed (%s)", color, month, url, redact(str(e)))
            continue
        if response.status_code != 200:
            continue
        now = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if (etag and now[0] and now[0] != etag) or (modified and now[1] and now[1] != modified):
            found.append(
                f"{color} {month}: {url} changed since its load (ETag {etag} -> {now[0]}, Last-Modified "
                f"{modified} -> {now[1]}): run the month again to load the new file"
            )
    return found
