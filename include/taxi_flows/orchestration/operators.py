"""Provider operators with the bundle's failure semantics (subclassed, not re-implemented), and
logs a user can read: the load job's configuration, which the provider logs as one dict on one
line, becomes a few lines (source, destination, format, dispositions, the schema's size)."""

from __future__ import annotations

from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator

from taxi_flows.orchestration.compat import AirflowFailException, template_fields, with_logical_date


class GCSToBigQueryFailFastOperator(GCSToBigQueryOperator):
    """GCSToBigQueryOperator whose load fails at once, without retries, when BigQuery rejects the
    input itself (400: the file's schema or values do not fit the table; 404: no such object or
    table): retrying cannot fix the file. Transient errors (429, 5xx, network) keep the task's
    retries.

    schema_fields is templated whatever the google provider's release (older ones do not template
    it): the month's load gets its schema from the mapped task group's arguments. An asset-triggered
    run has no logical date, which older providers need for the job's id (compat.with_logical_date)."""

    template_fields = template_fields(GCSToBigQueryOperator, "schema_fields")

    @property
    def log(self):
        return ReadableConfigurationLog(super().log)

    def execute(self, context):
        from google.api_core.exceptions import BadRequest, NotFound

        try:
            return super().execute(with_logical_date(context))
        except (BadRequest, NotFound) as e:
            sources = ", ".join(f"gs://{self.bucket}/{o}" for o in self.source_objects)
            raise AirflowFailException(
                f"BigQuery rejected the load of {sources} into {self.destination_project_dataset_table}: {e.message}"
            ) from e


class ReadableConfigurationLog:
    """A task's logger whose "Executing: <configuration>" record (GCSToBigQueryOperator's, every
    provider release the bundle supports) is logged as readable lines; every other record as is."""

    def __init__(self, log):
        self._log = log

    def __getattr__(self, name):
        return getattr(self._log, name)

    def info(self, msg, *args, **kwargs):
        if msg == "Executing: %s" and len(args) == 1 and isinstance(args[0], dict):
            for line in configuration_lines(args[0]):
                self._log.info("%s", line)
            return None
        return self._log.info(msg, *args, **kwargs)


def configuration_lines(configuration: dict) -> list[str]:
    """A BigQuery job configuration as a few lines: for a load, what is loaded where and how."""
    load = configuration.get("load")
    if not isinstance(load, dict):
        return [f"BigQuery job: {', '.join(sorted(configuration))}"]
    table = load.get("destinationTable") or {}
    target = ".".join(str(table.get(k)) for k in ("projectId", "datasetId", "tableId") if table.get(k))
    fields = (load.get("schema") or {}).get("fields") or []
    return [
        f"BigQuery load job: {', '.join(load.get('sourceUris') or [])} -> {target}",
        f"  format {load.get('sourceFormat')}, {load.get('writeDisposition')}, {load.get('createDisposition')}, "
        f"schema of {len(fields)} columns"
        + (f", partitioned by {load['timePartitioning'].get('field')}" if load.get("timePartitioning") else ""),
    ]
