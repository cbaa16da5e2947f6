"""What every target shares: the schema, the source files, their download, the typed CSV parse,
the course's transformation and the data-quality checks. Nothing here knows Airflow."""
