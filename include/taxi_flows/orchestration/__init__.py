"""What the DAG files import: DAG defaults, task entry points, the connection checks, the run notes,
Assets, the failure alert, and compat (the one module that knows the Airflow version)."""
