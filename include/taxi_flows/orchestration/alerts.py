"""Failure handling users can see: every task's on_failure_callback.

It logs one paragraph (DAG, run, task, month or day, colour, error, log URL) and, when the Airflow
connection ``taxi_alerts`` exists, sends it:

- ``conn_type`` ``http`` (e.g. a Slack incoming webhook): POST ``{"text": <paragraph>}`` as JSON to
  the URL in the connection's password (``https://hooks.slack.com/services/…``: the URL is the
  secret, and a password is what Airflow hides in its UI, REST API and logs). A URL in the host
  (as before) still works, with a warning: Airflow shows a host to anyone who may read connections;
- ``conn_type`` ``smtp``: an e-mail through the smtp provider Airflow ships, to the addresses in
  the connection's extra ``{"to": "a@example.com, b@example.com"}``.

A notifier that fails is logged, never raised: an alert must not hide the task's own error.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging

from taxi_flows.core.redact import redact
from taxi_flows.core.schema import COLORS
from taxi_flows.settings import ALERTS_CONN_ID

log = logging.getLogger(__name__)


def summary(context) -> str:
    """One paragraph about a failed task, from its Airflow context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    rendered = getattr(ti, "rendered_map_index", None)
    if map_index is not None and map_index >= 0:
        task += f"[{rendered or map_index}]"
    run_id = getattr(context.get("dag_run"), "run_id", None) or context.get("run_id", "?")
    logical = context.get("logical_date")
    params = context.get("params") or {}
    picked = params.get("month") if hasattr(params, "get") else None
    period = f"month {picked} (picked in the trigger form)" if picked else _period(dag_id, logical)
    if logical is None and not picked and rendered:
        period = f"{rendered} (of the run's Asset events)"  # a mapped task of taxi_gcs_to_bigquery: "green 2021-01"
    color = _color(task, context)
    error = context.get("exception")
    error_text = f"{type(error).__name__}: {error}" if error else "(no exception recorded)"
    url = getattr(ti, "log_url", None) or "(no log URL)"
    tries = getattr(ti, "try_number", None)
    return redact(
        f"Task {task} of DAG {dag_id} failed (run {run_id}, try {tries}); {period}, colour {color}. "
        f"Error: {error_text}. Log: {url}"
    )


def _period(dag_id: str, logical: dt.datetime | None) -> str:
    if logical is None:
        return "no logical date"
    if "daily" in dag_id:
        return f"day {logical:%Y-%m-%d}"
    if dag_id == "check_connections":
        return f"checked at {logical:%Y-%m-%d %H:%M}"
    return f"month {logical:%Y-%m}"


def _color(task: str, context) -> str:
    found = [c for c in COLORS if c in task]
    params = context.get("params") or {}
    colors = params.get("colors") if hasattr(params, "get") else None
    if found:
        return max(found, key=len)  # fhvhv_to_gcs is fhvhv's, not fhv's
    return "/".join(colors) if colors else "n/a"


def on_task_failure(context) -> None:
    """The on_failure_callback of every task of the bundle (see taxi_flows.orchestration.dag_defaults.DEFAULT_ARGS)."""
    text = summary(context)
    log.error("%s", text)
    try:
        notify(text)
    except Exception as e:  # an alert must never hide the task's own failure
        # Named by its kind and status only: a webhook's URL (its path is the secret) stays out of the log.
        status = getattr(getattr(e, "response", None), "status_code", None)
        reason = f"{type(e).__name__}" + (f" (HTTP {status})" if status else "")
        log.error("could not send the failure alert through the connection %s: %s", ALERTS_CONN_ID, reason)


def notify(text: str) -> bool:
    """Send text through the connection taxi_alerts; False when no such connection is configured."""
    connection = _alerts_connection()
    if connection is None:
        return False
    kind = (connection.conn_type or "").lower()
    if kind in ("http", "https"):
        import requests

        url = _webhook_url(connection)
        _mask(url)
        headers = {"Content-Type": "application/json"}
        response = requests.post(url, data=json.dumps({"text": text}), timeout=10, headers=headers)
        response.raise_for_status()
    elif kind == "smtp":
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        to = connection.extra_dejson.get("to")
        if not to:
            raise ValueError(f"connection {ALERTS_CONN_ID} (smtp) needs extra {{'to': 'address, ...'}}")
        with SmtpHook(smtp_conn_id=ALERTS_CONN_ID) as smtp:
            subject = " ".join(f"[taxi-flows] {text[:120]}".split())  # one line: no header can be injected
            smtp.send_email_smtp(to=to, subject=subject, html_content=f"<p>{html.escape(text)}</p>")
    else:
        raise ValueError(f"connection {ALERTS_CONN_ID} has conn_type {kind!r}: use http (webhook) or smtp")
    log.info("failure alert sent through the connection %s (%s)", ALERTS_CONN_ID, kind)
    return True


def _mask(url: str) -> None:
    """The webhook's URL is a bearer secret: Airflow's masker hides it (and its path) from then on."""
    from taxi_flows.orchestration.compat import mask_secret

    mask_secret(url)
    path = url.split("://", 1)[-1].partition("/")[2]
    if len(path) >= 8:
        mask_secret(path)


def _webhook_url(connection) -> str:
    """The webhook's URL: the connection's password, or (as before) its host."""
    if "://" in (connection.password or ""):
        return connection.password
    if "://" not in (connection.host or ""):
        raise ValueError(
            f"connection {ALERTS_CONN_ID} (http) needs the webhook's whole URL (https://…) in its password"
        )
    log.warning(
        "the connection %s has the webhook's URL in its host, which Airflow's UI and REST API show to anyone who "
        'may read connections: move it to the password (README, "Failure alerts")',
        ALERTS_CONN_ID,
    )
    return connection.host


def _alerts_connection():
    from taxi_flows.orchestration.compat import AirflowNotFoundException, BaseHook

    try:
        return BaseHook.get_connection(ALERTS_CONN_ID)
    except AirflowNotFoundException:  # not configured: the paragraph in the task log is the alert
        return None
