"""The bundle's Airflow plugin: the timetables of its DAGs (orchestration.timetables), which the
scheduler, the dag-processor and the api-server must find by name; the listener that writes the
runs' notes in the scheduler (orchestration.notes: what a run handles, why it failed); and, on
Airflow 3.1+, the coverage page (coverage.page.plugin_parts) with its link in the UI's navigation.

Airflow loads every file of its plugins folder; Cloud Composer syncs this one from the
environment's bucket (deploy/deploy.py copies it), docker-compose.yaml mounts the folder.
"""

from __future__ import annotations

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from taxi_flows.orchestration import notes
from taxi_flows.orchestration.compat import PLUGIN_FASTAPI_APPS
from taxi_flows.orchestration.timetables import SourcePeriodsTimetable

if PLUGIN_FASTAPI_APPS:  # the page's module only where the api-server can mount it
    from taxi_flows.coverage.page import plugin_parts
else:

    def plugin_parts() -> tuple[list, list]:
        return [], []


class TaxiFlowsPlugin(AirflowPlugin):
    name = "taxi_flows"
    timetables: ClassVar[list] = [SourcePeriodsTimetable]
    listeners: ClassVar[list] = [notes]
    # Airflow 3.1+: the coverage page at /taxi/, embedded in the UI under "Taxi coverage" (empty before).
    fastapi_apps, external_views = plugin_parts()
