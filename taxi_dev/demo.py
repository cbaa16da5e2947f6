"""The main job on the local default: start the stack and Airflow's components, put sample months
on the taxi file server, load January to March 2021 by backfill through the scheduler, and print
what was loaded where.

    make demo            (or: python -m taxi_dev.demo [--from-month 2021-01 --to-month 2021-03])

On Airflow 3 it starts the api-server, scheduler, dag-processor and triggerer (the local stack's
components: catch-up off unless TAXI_CATCHUP says otherwise) and leaves them running, so the UI
shows what happened:

1. a manual run of check_connections;
2. unpausing taxi_web_to_postgres, taxi_web_to_gcs and taxi_reconcile, which (without catch-up)
   schedules the latest month of the source, 2021-07; once taxi_web_to_gcs has written it,
   unpausing taxi_gcs_to_bigquery and taxi_daily_trips_to_gcs, whose scheduled runs read it;
3. backfills (`airflow backfill create … --reprocess-behavior completed`, so a second demo replaces
   the months) of taxi_web_to_postgres and taxi_web_to_gcs over the months; the Asset events of
   taxi_web_to_gcs trigger taxi_gcs_to_bigquery; then a backfill of taxi_daily_trips_to_gcs for
   each month's first day;
4. taxi_reconcile, on the loads' Asset events, counts every target for the coverage page.

On Airflow 2 (make demo AIRFLOW=2.10) each run is `airflow dags test <dag_id> <date>` instead.
Airflow's CLI output goes to <state>/run/demo-*.log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import time

from taxi_dev import demo_report, sample_data
from taxi_dev.stack import Stack
from taxi_flows.core import schema, source
from taxi_flows.core.months import month_start, next_month

MONTHLY_DAGS = ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery")
DAILY_DAG = "taxi_daily_trips_to_gcs"
DAGS = ("check_connections", *MONTHLY_DAGS, DAILY_DAG, "taxi_reconcile")
# Sample sizes for the demo months: big enough to show the quirks, small enough to be quick.
DEMO_ROWS = {"yellow": 100_000, "green": 20_000}
ACTIVE = ("queued", "running")


def ensure_sample_months(stack: Stack, months: list[dt.date]) -> None:
    for color in schema.DEFAULT_COLORS:  # the demo's runs load yellow and green
        for month in months:
            path = stack.s.files_dir / color / source.trip_file_name(color, month)
            if not path.exists():
                sample_data.write_trips(path, color, month, DEMO_ROWS[color])
                print(f"sample file     {path.relative_to(stack.s.state_dir)} ({DEMO_ROWS[color]:,} rows)")


class Demo:
    def __init__(self, stack: Stack, months: list[dt.date]):
        from taxi_dev import airflow_meta  # Airflow, once the environment points it at the stack

        self.stack, self.months, self.started, self.meta = stack, months, time.monotonic(), airflow_meta
        self.begun = dt.datetime.now(tz=dt.UTC)

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:5.0f} s] {text}", flush=True)

    def airflow(self, *args: str) -> None:
        """An Airflow CLI command; its output goes to the demo's log, its failure stops the demo."""
        with open(self.stack.s.run_dir / "demo-cli.log", "a") as out:
            out.write(f"$ airflow {' '.join(args)}\n")
            out.flush()
            result = subprocess.run(self.stack.airflow_argv(*args), env=self.stack.env(), stdout=out, stderr=out)
        if result.returncode:
            raise SystemExit(f"airflow {' '.join(args)} failed: see {self.stack.s.run_dir / 'demo-cli.log'}")

    def wait(self, check, what: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise SystemExit(f"{what}: not within {timeout:.0f} s (the UI shows where it stands)")
            time.sleep(1)

    def finished(self, dag_id: str, run_type: str) -> bool:
        """The DAG has runs of that type and none of them is queued or running."""
        runs = [r for r in self.meta.dag_runs(dag_id) if r[0] == run_type]
        return bool(runs) and all(r[2] not in ACTIVE for r in runs)

    def idle(self, dag_id: str) -> bool:
        active = [r for r in self.meta.dag_runs(dag_id) if r[2] in ACTIVE]
        return not active and not self.meta.queued_assets(dag_id)

    def backfill(self, dag_id: str, first: dt.date, last: dt.date) -> None:
        self.say(f"backfill {dag_id} {first} … {last}")
        dates = ["--from-date", f"{first}", "--to-date", f"{last}"]
        self.airflow("backfill", "create", "--dag-id", dag_id, *dates, "--reprocess-behavior", "completed")

    def run(self) -> None:
        stack = self.stack
        self.begun = dt.datetime.now(tz=dt.UTC)
        first, last = self.months[0], self.months[-1]
        stack.start_airflow()
        self.say("Airflow components up: api-server, scheduler, dag-processor, triggerer")
        self.airflow("dags", "reserialize")  # every DAG registered now, not at the dag-processor's next pass
        self.airflow("dags", "unpause", "check_connections")
        self.airflow("dags", "trigger", "check_connections")
        ran = lambda: self.meta.dag_runs("check_connections", ended_after=self.begun)  # noqa: E731
        self.wait(ran, "check_connections")
        self.say(f"check_connections: {ran()[-1][2]}")

        for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_reconcile"):
            self.airflow("dags", "unpause", dag_id)
        self.say("unpaused taxi_web_to_postgres, taxi_web_to_gcs, taxi_reconcile: the scheduled run of 2021-07")
        self.wait(lambda: self.finished("taxi_web_to_gcs", "scheduled"), "taxi_web_to_gcs's scheduled run")
        for dag_id in ("taxi_gcs_to_bigquery", DAILY_DAG):
            self.airflow("dags", "unpause", dag_id)
        self.say("unpaused taxi_gcs_to_bigquery and taxi_daily_trips_to_gcs (their scheduled runs read 2021-07)")

        for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs"):
            self.backfill(dag_id, first, last)
        self.wait(lambda: self.meta.backfills_done("taxi_web_to_gcs"), "the taxi_web_to_gcs backfill")
        self.say("taxi_web_to_gcs: months written; their Asset events trigger taxi_gcs_to_bigquery")
        for month in self.months:  # one backfill of a DAG at a time
            self.backfill(DAILY_DAG, month, month)
            self.wait(lambda: self.meta.backfills_done(DAILY_DAG), f"the daily backfill of {month}")
        self.wait(lambda: self.meta.backfills_done("taxi_web_to_postgres"), "the PostgreSQL backfill")
        self.wait(lambda: all(self.idle(d) for d in MONTHLY_DAGS), "taxi_gcs_to_bigquery on the Asset events")
        self.say("every load done; taxi_reconcile counts the targets")
        self.wait(lambda: self.idle("taxi_reconcile"), "taxi_reconcile")
        self.say("done")


def run_dags_test(stack: Stack, months: list[dt.date]) -> bool:
    """Airflow 2: `airflow dags test` of each DAG and month, one after the other."""
    results, runs = [], [(d, m) for m in months for d in (*MONTHLY_DAGS, DAILY_DAG)]
    for dag_id, day in [("check_connections", months[0]), *runs]:
        log, started = stack.s.run_dir / f"demo-{dag_id}-{day}.log", time.monotonic()
        with open(log, "w") as out:
            argv = stack.airflow_argv("dags", "test", dag_id, f"{day}")
            result = subprocess.run(argv, env=stack.env(), stdout=out, stderr=subprocess.STDOUT, check=False)
        ok = result.returncode == 0 and "state=success" in log.read_text()
        took = time.monotonic() - started
        print(f"airflow dags test {dag_id} {day}: {'success' if ok else f'FAILED (see {log})'} in {took:.0f} s")
        results.append(ok)
    return all(results)


def month_range(first: str, last: str) -> list[dt.date]:
    months, month = [], month_start(first)
    while month <= month_start(last):
        months.append(month)
        month = next_month(month)
    if not months:
        raise SystemExit(f"--from-month {first} is after --to-month {last}")
    return months


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-month", default="2021-01", help="YYYY-MM (default 2021-01)")
    parser.add_argument("--to-month", default="2021-03", help="YYYY-MM (default 2021-03)")
    args = parser.parse_args(argv)
    months = month_range(args.from_month, args.to_month)
    started = time.monotonic()
    stack = Stack()
    os.environ.update(stack.s.airflow_env())  # before Airflow is imported: its metadata database is the stack's
    from taxi_flows.orchestration.compat import AIRFLOW_3

    stack.up()
    ensure_sample_months(stack, months)
    if AIRFLOW_3:
        demo = Demo(stack, months)
        demo.run()
        ok = demo_report.print_runs(demo.meta, DAGS, since=demo.begun)
    else:
        ok = run_dags_test(stack, months)
    demo_report.print_everything(stack, ui=AIRFLOW_3)
    print(f"\nmake demo: {time.monotonic() - started:.0f} s")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
