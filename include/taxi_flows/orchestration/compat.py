"""The one module that knows which Airflow runs the bundle.

Supported: Airflow 2.10 (Cloud Composer 3's Airflow 2 builds) and Airflow 3.1 through 3.3 (see
README, "Supported Airflow versions"). Everything that differs between them is here, and the DAG
files and the rest of the package import it from here:

- the authoring API: ``dag``, ``task``, ``task_group``, ``Param``, ``BaseHook``, ``Connection``,
  ``get_current_context`` (``airflow.sdk`` in Airflow 3; ``airflow.decorators``,
  ``airflow.models.param``, ``airflow.hooks.base``, ``airflow.operators.python`` in Airflow 2);
- Assets (Airflow 3) or Datasets (Airflow 2): ``asset()``, ``asset_name()``,
  ``asset_or_time_schedule()``, and the context key of a run's
  triggering events, which is ``triggering_asset_events`` in Airflow 3 and
  ``triggering_dataset_events`` in Airflow 2 (``triggering_events()``: a wrong key would be
  silent, the run would load the wrong month);
- the task exceptions (``airflow.sdk.exceptions`` from 3.2 on, ``airflow.exceptions`` before);
- what the scheduler-side listener reads of a run (``run_xcom_values()``, ``consumed_event_extras()``,
  ``logical_date_of()``).

It is long because every one of these differences lives here and nowhere else.

It imports only what Airflow's own authoring API imports anyway: DAG files stay light at parse time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import airflow
from packaging.version import Version

AIRFLOW_VERSION = Version(Version(airflow.__version__).base_version)  # "3.1.0+composer" -> 3.1.0
AIRFLOW_3 = AIRFLOW_VERSION.major >= 3

if AIRFLOW_3:
    from airflow.sdk import Asset as _Asset
    from airflow.sdk import BaseHook, Connection, Param, dag, get_current_context, task, task_group
    from airflow.timetables.assets import AssetOrTimeSchedule as _AssetOrTimeSchedule

    TRIGGERING_EVENTS_KEY = "triggering_asset_events"
else:  # Airflow 2.10
    from airflow.datasets import Dataset as _Asset  # type: ignore[no-redef]
    from airflow.decorators import dag, task, task_group  # type: ignore[no-redef]
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
    from airflow.models.connection import Connection  # type: ignore[no-redef]
    from airflow.models.param import Param  # type: ignore[no-redef]
    from airflow.operators.python import get_current_context  # type: ignore[no-redef]
    from airflow.timetables.datasets import DatasetOrTimeSchedule as _AssetOrTimeSchedule  # type: ignore[no-redef]

    TRIGGERING_EVENTS_KEY = "triggering_dataset_events"

try:  # Airflow 3.2+
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
        ParamValidationError,
    )
except ImportError:  # Airflow 2.10 to 3.1
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
        ParamValidationError,
    )

__all__ = [
    "AIRFLOW_3",
    "AIRFLOW_VERSION",
    "TRIGGERING_EVENTS_KEY",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSkipException",
    "BaseHook",
    "Connection",
    "Param",
    "ParamValidationError",
    "asset",
    "asset_name",
    "asset_or_time_schedule",
    "consumed_event_extras",
    "dag",
    "get_current_context",
    "logical_date_of",
    "run_type",
    "run_xcom_values",
    "task",
    "task_group",
    "triggering_events",
]


def asset(name: str, group: str) -> Any:
    """A named Asset (Airflow 3; in the group shown by the UI), or the Dataset whose URI is that
    name (Airflow 2, where Datasets have neither names nor groups)."""
    if AIRFLOW_3:
        return _Asset(name=name, group=group)
    return _Asset(uri=name)


def asset_name(value: Any) -> str:
    """The name an Asset or Dataset was made with by asset()."""
    return value.name if AIRFLOW_3 else value.uri


def asset_or_time_schedule(timetable, assets) -> Any:
    """Run on the assets' events, and on the timetable too."""
    if AIRFLOW_3:
        return _AssetOrTimeSchedule(timetable=timetable, assets=assets)
    return _AssetOrTimeSchedule(timetable=timetable, datasets=assets)


def mask_secret(secret: str) -> None:
    """Have Airflow's secret masker hide secret in every log line and rendered field of the task."""
    if AIRFLOW_3:  # the task process's masker and the supervisor's (which writes the log file)
        from airflow.sdk.log import mask_secret as mask
    else:
        from airflow.utils.log.secrets_masker import mask_secret as mask
    mask(secret)


def run_type(dag_run) -> str | None:
    """The run's type as text ("scheduled", "manual", "backfill", "dataset_triggered", …)."""
    if dag_run is None:
        return None
    return str(getattr(dag_run.run_type, "value", dag_run.run_type))


def run_xcom_values(dag_run, key: str, session) -> list:
    """The values of an XCom key in a DAG run, read in the scheduler (orchestration.notes, a
    listener) through a database session."""
    if AIRFLOW_3:
        from airflow.models.xcom import XComModel

        rows = session.scalars(XComModel.get_many(run_id=dag_run.run_id, key=key, dag_ids=dag_run.dag_id)).all()
        return [XComModel.deserialize_value(row) for row in rows]
    from airflow.models.xcom import XCom

    rows = XCom.get_many(run_id=dag_run.run_id, key=key, dag_ids=dag_run.dag_id, session=session).all()
    return [row.value for row in rows]  # Airflow 2 deserializes a row as it loads it


def consumed_event_extras(dag_run) -> list[dict]:
    """The extras of the Asset (Airflow 2: Dataset) events that triggered a DAG run, in the scheduler."""
    events = getattr(dag_run, "consumed_asset_events" if AIRFLOW_3 else "consumed_dataset_events", None) or []
    return [dict(getattr(event, "extra", None) or {}) for event in events]


def logical_date_of(dag_run):
    """A DAG run's logical date (Airflow 2: its execution_date; None for an Asset-triggered run of Airflow 3)."""
    return dag_run.logical_date if AIRFLOW_3 else dag_run.execution_date


def triggering_events(context) -> Mapping:
    """The Asset (Dataset) events that triggered the run, {asset: [event, ...]}; empty when the run
    was not triggered by events."""
    # Airflow 2 loads them lazily from the database, and only a Dataset-triggered run has any
    # (the lazy load also fails under dag.test(): its run is not flushed yet).
    if not AIRFLOW_3 and run_type(context.get("dag_run")) != "dataset_triggered":
        return {}
    # A read-only mapping whose keys may not be hashable (Airflow 3.1's Assets): not copied to a dict.
    return context.get(TRIGGERING_EVENTS_KEY) or {}


def serialize_dag_roundtrip(dag):
    """The DAG as the scheduler and the api-server see it: serialized by the dag-processor and read
    back (custom timetables must be registered by a plugin for this)."""
    try:
        from airflow.serialization.serialized_objects import DagSerialization as _Serialization
    except ImportError:  # Airflow before 3.2
        from airflow.serialization.serialized_objects import SerializedDAG as _Serialization
    return _Serialization.from_dict(_Serialization.to_dict(dag))


def run_id(run_type, when) -> str:
    """A run id of Airflow's form for a run of that type named by when ("scheduled__<iso date>")."""
    if AIRFLOW_3:
        return run_type.generate_run_id(suffix=when.isoformat())
    return run_type.generate_run_id(when)


def backfill_command(dag_id: str, first: dt.date, last: dt.date, colors: list[str], rerun: str = "failed") -> str:
    """The CLI command that backfills dag_id over the months first … last (both included) for the
    colours, on this Airflow. rerun: which months that already have a run are run again ("failed",
    "completed"; Airflow 3's --reprocess-behavior). Airflow 3.1's CLI cannot pass a run conf (it
    fails unpacking it): the command there loads the default colours."""
    conf = " --dag-run-conf '" + json.dumps({"colors": colors}) + "'"
    if not AIRFLOW_3:
        reset = " --reset-dagruns -y" if rerun == "completed" else " --rerun-failed-tasks"
        return f"airflow dags backfill {dag_id} --start-date {first} --end-date {last}{conf}{reset}"
    if Version("3.2") > AIRFLOW_VERSION:
        conf = ""
    return (
        f"airflow backfill create --dag-id {dag_id} --from-date {first} --to-date {last}{conf} "
        f"--reprocess-behavior {rerun}"
    )


# Airflow 3.1+: the api-server mounts plugins' FastAPI apps (the coverage page, taxi_flows.coverage.page).
PLUGIN_FASTAPI_APPS = Version("3.1") <= AIRFLOW_VERSION


def airflow_user():
    """A FastAPI dependency of the coverage page (Airflow 3.1+): the request carries a valid Airflow
    token, as the UI's cookie `_token` (sent by the browser to the page the UI embeds; Airflow 3.1's
    own API reads only the header) or an `Authorization: Bearer` header; 401/403 otherwise."""
    from airflow.api_fastapi.core_api.security import resolve_user_from_token
    from fastapi import Cookie, Depends, Header

    async def user(token: str | None = Cookie(None, alias="_token"), authorization: str | None = Header(None)):
        bearer = authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
        return await resolve_user_from_token(token or bearer)

    return Depends(user)


def may_read(user, dag_id: str | None = None, conn_id: str | None = None) -> bool:
    """Whether Airflow's auth manager (simple, FAB, or a cloud's) lets the user read the runs of the
    DAG dag_id, or the connection conn_id: the permissions the coverage page's views ask (Airflow 3.1+)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        ConnectionDetails,
        DagAccessEntity,
        DagDetails,
    )

    manager = get_auth_manager()
    if conn_id is not None:
        return manager.is_authorized_connection(method="GET", user=user, details=ConnectionDetails(conn_id=conn_id))
    return manager.is_authorized_dag(
        method="GET", user=user, access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id)
    )
