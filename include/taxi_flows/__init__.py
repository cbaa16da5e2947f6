"""taxi_flows: the shared code of the taxi-flows DAG bundle.

- settings: every name Airflow resolves (connections, Variables and their templates, pool, switches);
- core/: schema, source, download, typed CSV, transform, quality (no Airflow);
- postgres/, gcs/, bigquery/: everything each target is written with;
- orchestration/: what the DAG files import (DAG defaults, tasks, checks, operators, assets, alerts, compat).
"""

import os
import sys

# Arrow's allocator, read at its first allocation (so set here, before any module imports pyarrow): jemalloc
# returns what a load's reader and writer threads free, where Arrow's default (mimalloc) keeps about 60 MB
# more of it (benchmarks/bench_tlc_load.py, a month of fhvhv to GCS: 389 MB against 451 MB at its peak, as
# fast). Arrow's Linux wheels have it; a value the environment sets wins.
if sys.platform == "linux":
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
