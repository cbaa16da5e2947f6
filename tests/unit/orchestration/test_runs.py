"""What a task says when a try could not read its source: what Airflow does next."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from taxi_flows.orchestration import compat, runs

pytestmark = pytest.mark.depends_on("airflow-release")  # the task instance's try_number and max_tries


@pytest.mark.parametrize(
    ("try_number", "max_tries", "said"),
    [(1, 3, "retrying, try 2 of 4"), (3, 3, "retrying, try 4 of 4"), (4, 3, "no tries left (try 4 of 4)")],
)
def test_next_try_says_what_airflow_does_next(monkeypatch, try_number, max_tries, said):
    ti = SimpleNamespace(try_number=try_number, max_tries=max_tries)
    monkeypatch.setattr(compat, "get_current_context", lambda: {"ti": ti})
    assert runs.next_try() == said


def test_a_source_unavailable_is_logged_with_the_next_try_and_retried(monkeypatch, caplog):
    from taxi_flows.core.download import SourceUnavailable

    ti = SimpleNamespace(try_number=1, max_tries=3)
    monkeypatch.setattr(compat, "get_current_context", lambda: {"ti": ti})
    with pytest.raises(SourceUnavailable), runs.fail_fast_on_bad_input():  # re-raised: Airflow retries it
        raise SourceUnavailable("yellow 2021-01: the server stopped sending after 12.3 MB for 60 s (read timeout)")
    assert "(read timeout); retrying, try 2 of 4" in caplog.text


def test_a_failure_leaves_its_reason_for_the_run_s_note_without_a_url_s_password(monkeypatch):
    from taxi_flows.orchestration import compat, runs

    pushed = {}

    class TaskInstance:
        def xcom_push(self, key, value):
            pushed[key] = value

    monkeypatch.setattr(compat, "get_current_context", lambda: {"ti": TaskInstance()})
    runs.fail("green 2021-01: http://taxi:pw-123@files.example/green.csv.gz answered 404")
    assert pushed == {runs.REASON_KEY: "green 2021-01: http://***@files.example/green.csv.gz answered 404"}
