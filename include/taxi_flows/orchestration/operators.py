"""Provider operators with the bundle's failure semantics (subclassed, not re-implemented)."""

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

    def execute(self, context):
        from google.api_core.exceptions import BadRequest, NotFound

        try:
            return super().execute(with_logical_date(context))
        except (BadRequest, NotFound) as e:
            sources = ", ".join(f"gs://{self.bucket}/{o}" for o in self.source_objects)
            raise AirflowFailException(
                f"BigQuery rejected the load of {sources} into {self.destination_project_dataset_table}: {e.message}"
            ) from e
