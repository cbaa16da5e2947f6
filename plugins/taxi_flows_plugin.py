"""The bundle's Airflow plugin: the timetables of its DAGs (orchestration.timetables), which the
scheduler, the dag-processor and the api-server must find by name, and, on Airflow 3.1+, the
coverage page (orchestration.coverage_page) with its link in the UI's navigation.

Airflow loads every file of its plugins folder; Cloud Composer syncs this one from the
environment's bucket (deploy/deploy.py copies it), docker-compose.yaml mounts the folder.
"""

from __future__ import annotations

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from taxi_flows.orchestration.compat import coverage_page
from taxi_flows.orchestration.timetables import SourcePeriodsTimetable


class TaxiFlowsPlugin(AirflowPlugin):
    name = "taxi_flows"
    timetables: ClassVar[list] = [SourcePeriodsTimetable]
    # Airflow 3.1+: the coverage page at /taxi/, embedded in the UI under "Taxi coverage" (empty before).
    fastapi_apps, external_views = coverage_page()
