"""Benchmark: the coverage page's response time against a plain call of Airflow's own REST API.

    make bench-page     (or: python benchmarks/bench_coverage_page.py [--requests 60])

On a stack of its own with the real api-server (and the scheduler, dag-processor and triggerer),
it stores what taxi_reconcile stores for the whole source: 31 months x 4 trip types x 4 targets in
ny_taxi.taxi_coverage, and a load summary per trip type and month in ny_taxi.taxi_loads. Then it
requests, alternately and --requests times each, the page's grid (`GET /taxi/`) and Airflow's
`GET /api/v2/dags` (the bundle's six DAGs), both through the api-server with the same token, and
reports each one's median and 95th percentile and the ratio of the medians (page / API). The page
reads only those two tables: it never scans a target.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

from taxi_dev.settings import StackSettings  # noqa: E402
from taxi_dev.stack import Stack  # noqa: E402
from taxi_flows import settings  # noqa: E402
from taxi_flows.core import schema  # noqa: E402
from taxi_flows.core.months import next_month  # noqa: E402


def store_results(stack: Stack) -> int:
    """Counts of every target for every colour and month of the source, as taxi_reconcile stores them."""
    import psycopg

    from taxi_flows.coverage import store

    counts, month = [], settings.FIRST_SOURCE_MONTH
    with psycopg.connect(stack.s.pg_uri(stack.s.target_db), autocommit=True) as conn:
        while month <= settings.LAST_SOURCE_MONTH:
            for i, color in enumerate(schema.COLORS):
                rows = 7_000_000 - 100_000 * month.month - 6_000_000 * i
                for target in store.TARGETS:
                    files = 31 if target == "gcs_dataset" else None
                    counts.append(store.Count(color, f"{month:%Y-%m}", target, rows, files))
                summary = {"rows_read": rows, "rows_written": rows, "rows_clean": rows - 500_000}
                store.record_load(conn, color, month, summary, "taxi_web_to_postgres", f"scheduled__{month}")
            month = next_month(month)
        store.save_counts(conn, counts, "bench")
    return len(counts)


def get(url: str, token: str) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}", "Cookie": f"_token={token}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the local api-server
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the local api-server
        size = len(response.read())
        assert response.status == 200, (url, response.status)
    return time.perf_counter() - started, size


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60, help="requests of each kind (after 5 to warm up)")
    args = parser.parse_args()
    stack = Stack(StackSettings.temporary(prefix="taxi-flows-bench-page-"))
    try:
        stack.up()
        stack.start_airflow()
        stack.airflow("dags", "reserialize", quiet=True)
        stored = store_results(stack)
        api = f"http://127.0.0.1:{stack.s.api_port}"
        with urllib.request.urlopen(f"{api}/auth/token", timeout=30) as response:  # noqa: S310 - all users are admins
            token = json.load(response)["access_token"]
        urls = {"page": f"{api}/taxi/", "api": f"{api}/api/v2/dags?limit=100"}
        times: dict[str, list[float]] = {kind: [] for kind in urls}
        sizes = {}
        for i in range(args.requests + 5):
            for kind, url in urls.items():
                took, sizes[kind] = get(url, token)
                if i >= 5:
                    times[kind].append(took)
    finally:
        stack.stop_airflow()
        stack.down()
        shutil.rmtree(stack.s.state_dir, ignore_errors=True)
    (page_median, page_p95), (api_median, api_p95) = summary(times["page"]), summary(times["api"])
    ratio = page_median / api_median
    print(
        json.dumps(
            {
                "stored_counts": stored,
                "requests": args.requests,
                "page_median_ms": round(page_median, 1),
                "api_median_ms": round(api_median, 1),
                "ratio": round(ratio, 2),
            }
        )
    )
    print(
        f"\n{stored} stored counts (31 months x {len(schema.COLORS)} trip types x 4 targets), "
        f"{args.requests} requests each, alternating\n"
        f"coverage page  GET /taxi/           median {page_median:6.1f} ms   p95 {page_p95:6.1f} ms   "
        f"{sizes['page'] / 1000:.0f} kB\n"
        f"Airflow API    GET /api/v2/dags     median {api_median:6.1f} ms   p95 {api_p95:6.1f} ms   "
        f"{sizes['api'] / 1000:.0f} kB\n"
        f"ratio (page / API, medians): {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
