"""The failure callback: one paragraph in the log, and to the taxi_alerts connection when configured."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socketserver
import threading
import types

import pytest
from packaging.version import Version
from support.dagrun import load_dag, log_messages, run

from taxi_flows.orchestration import alerts
from taxi_flows.orchestration.compat import AIRFLOW_VERSION

pytestmark = pytest.mark.integration


def test_the_paragraph_names_what_failed():
    ti = types.SimpleNamespace(
        dag_id="taxi_web_to_postgres",
        task_id="load_trips",
        map_index=0,
        rendered_map_index="green",
        try_number=1,
        log_url="http://ui/log",
    )
    context = {
        "ti": ti,
        "dag_run": types.SimpleNamespace(run_id="backfill__2021-03-01T00:00:00+00:00"),
        "logical_date": dt.datetime(2021, 3, 1, tzinfo=dt.UTC),
        "exception": ValueError("green 2021-03: the header does not match"),
        "params": {"colors": ["green"]},
    }
    assert alerts.summary(context) == (
        "Task load_trips[green] of DAG taxi_web_to_postgres failed (run backfill__2021-03-01T00:00:00+00:00, "
        "try 1); month 2021-03, colour green. Error: ValueError: green 2021-03: the header does not match. "
        "Log: http://ui/log"
    )
    # A manual run names the month picked in its trigger form; a run on Asset events, its task's month.
    picked = {**context, "params": {"colors": ["green"], "month": "2020-10"}, "logical_date": None}
    assert "; month 2020-10 (picked in the trigger form), colour green." in alerts.summary(picked)
    events = {
        **context,
        "logical_date": None,
        "ti": types.SimpleNamespace(
            **{**vars(ti), "task_id": "load_month.check_staged", "rendered_map_index": "green 2021-01"}
        ),
    }
    assert "; green 2021-01 (of the run's Asset events), colour green." in alerts.summary(events)


# Harness differences of Airflow versions (the task runner of a real deployment behaves the same on all).
AIRFLOW_3_1 = Version("3.1") <= AIRFLOW_VERSION < Version("3.2")
DAG_TEST_RECORDS_EXCEPTION = not (Version("3.0") <= AIRFLOW_VERSION < Version("3.3"))


@pytest.mark.skipif(
    AIRFLOW_3_1,
    reason=f"Airflow {AIRFLOW_VERSION} looks connections up through the task supervisor only: outside a task a "
    "missing connection raises ImportError (inside one, where the callback runs, AirflowNotFoundException)",
)
def test_no_connection_no_notification(stack, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_TAXI_ALERTS", raising=False)
    assert alerts.notify("hello") is False


def test_a_failed_task_posts_its_paragraph_to_the_webhook(stack, monkeypatch, stub_http):
    received = []

    def respond(handler, n):
        handler.send_error(405)

    def post(handler):
        length = int(handler.headers["Content-Length"])
        received.append(json.loads(handler.rfile.read(length)))
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = stub_http(respond, on_post=post)
    # The URL in the password: what Airflow's UI and REST API hide.
    monkeypatch.setenv("AIRFLOW_CONN_TAXI_ALERTS", json.dumps({"conn_type": "http", "password": f"{url}/hooks/T0/B0"}))
    monkeypatch.setenv("AIRFLOW_VAR_TAXI_SOURCE_BASE_URL", f"{stack.s.source_base_url}/no-such-release")
    dag = load_dag(stack, "taxi_web_to_postgres")

    with log_messages() as messages:
        dr, _ = run(dag, "2021-05", ["yellow"])

    assert dr.state == "failed"
    assert len(received) == 1  # load_zone_lookup failed (404); load_trips[yellow], which needs it, did not start
    text = received[0]["text"]
    assert text.startswith("Task load_zone_lookup of DAG taxi_web_to_postgres failed")
    assert "month 2021-05, colour yellow" in text
    if DAG_TEST_RECORDS_EXCEPTION:
        assert "the source file does not exist (404 Not Found)" in text
    else:  # Airflow 3.0 to 3.2: dag.test() does not put the exception in the callback's context
        assert "Error: (no exception recorded)" in text
    assert "Log: http" in text
    assert any(m.startswith("Task load_zone_lookup") for m in messages)


def test_no_secret_of_the_source_url_or_the_webhook_reaches_the_logs_or_the_alert(stack, monkeypatch, stub_http):
    """Credentials in taxi_source_base_url, and a webhook that refuses the alert (its URL is the
    secret): the bundle's messages and the alert name neither."""
    received = []

    def post(handler):
        length = int(handler.headers["Content-Length"])
        received.append(json.loads(handler.rfile.read(length)))
        handler.send_error(500)  # the alert is refused: its failure is logged, without the URL

    url = stub_http(lambda handler, n: handler.send_error(405), on_post=post)
    hook = f"{url}/services/T0SECRET/B0SECRET/hooktoken0123"
    # In the host, as the README said before: it still works, and says to move it to the password.
    monkeypatch.setenv("AIRFLOW_CONN_TAXI_ALERTS", json.dumps({"conn_type": "http", "host": hook}))
    base = stack.s.source_base_url.replace("http://", "http://reader:pw-s3cret-9@") + "/no-such-release?token=tk-0123"
    monkeypatch.setenv("AIRFLOW_VAR_TAXI_SOURCE_BASE_URL", base)
    dag = load_dag(stack, "taxi_web_to_postgres")

    with log_messages() as messages:
        dr, _ = run(dag, "2021-05", ["yellow"])

    assert dr.state == "failed"
    assert received, "the alert was sent"
    seen = "\n".join(messages + [r["text"] for r in received])
    assert "404 Not Found" in seen
    for secret in ("pw-s3cret-9", "tk-0123", "hooktoken0123", "T0SECRET"):
        assert secret not in seen
    assert any("could not send the failure alert" in m and "HTTP 500" in m for m in messages)
    assert any("webhook's URL in its host" in m and "move it to the password" in m for m in messages)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for one message: every command is accepted; DATA is kept."""

    def handle(self):
        self.wfile.write(b"220 test SMTP\r\n")
        body: list[bytes] | None = None
        while line := self.rfile.readline():
            if body is not None:
                if line == b".\r\n":
                    self.server.messages.append(b"".join(body))
                    body = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    body.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                body = []
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # EHLO, HELO, MAIL, RCPT, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


@pytest.mark.skipif(AIRFLOW_3_1, reason="outside a task Airflow 3.1 finds connections through the supervisor only")
def test_the_alert_e_mail_escapes_its_html_and_keeps_its_subject_on_one_line(stack, monkeypatch):
    """Through a real SMTP conversation (Airflow's smtp provider): text from the source file (a
    header name) cannot become markup in the e-mail, or a header of it."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    extra = {"to": "team@example.com", "from_email": "airflow@example.com", "disable_tls": True, "disable_ssl": True}
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": server.server_address[1], "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_TAXI_ALERTS", json.dumps(conn))
    text = "yellow 2021-03: unexpected ['<script>alert(1)</script>']\r\nBcc: someone@example.com"
    try:
        assert alerts.notify(text) is True
    finally:
        server.shutdown()
        server.server_close()

    (raw,) = server.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert "Bcc" not in message
    assert "\n" not in message["Subject"]
    html_part = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    assert "<script>" not in html_part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_part
