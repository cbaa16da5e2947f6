"""taxi_flows: the shared code of the taxi-flows DAG bundle.

- settings: every name Airflow resolves (connections, Variables and their templates, pool, switches);
- core/: schema, source, download, typed CSV, transform, quality (no Airflow);
- postgres/, gcs/, bigquery/: everything each target is written with;
- orchestration/: what the DAG files import (DAG defaults, tasks, checks, operators, assets, alerts, compat).
"""
