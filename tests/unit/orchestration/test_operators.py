"""The load operator's log: its job configuration as readable lines, every other record as is."""

from __future__ import annotations

import logging

from taxi_flows.orchestration.operators import ReadableConfigurationLog, configuration_lines

LOAD = {
    "load": {
        "sourceUris": ["gs://b/green/green_tripdata_2021-01.parquet"],
        "destinationTable": {"projectId": "p", "datasetId": "d", "tableId": "_staging_green_tripdata_202101"},
        "sourceFormat": "PARQUET",
        "writeDisposition": "WRITE_TRUNCATE",
        "createDisposition": "CREATE_IF_NEEDED",
        "schema": {"fields": [{"name": "a"}, {"name": "b"}]},
    }
}


def test_a_load_configuration_is_two_readable_lines():
    assert configuration_lines(LOAD) == [
        "BigQuery load job: gs://b/green/green_tripdata_2021-01.parquet -> p.d._staging_green_tripdata_202101",
        "  format PARQUET, WRITE_TRUNCATE, CREATE_IF_NEEDED, schema of 2 columns",
    ]


def test_the_provider_s_dump_becomes_those_lines_and_other_records_pass(caplog):
    log = ReadableConfigurationLog(logging.getLogger("test.operator"))
    with caplog.at_level(logging.INFO, logger="test.operator"):
        log.info("Executing: %s", LOAD)
        log.info("Job %s done", "j1")
        log.warning("careful")
    assert [r.getMessage() for r in caplog.records] == [
        *configuration_lines(LOAD),
        "Job j1 done",
        "careful",
    ]
    assert "sourceUris" not in caplog.text
