"""Run the test suite on every leg of the version matrix, two legs at a time, and summarise.

    python -m taxi_dev.matrix 3.1.0 3.3.2 3.3.1 2.10.5      (what `make test-all` and CI run)
    python -m taxi_dev.matrix --jobs 1 3.3.2 3.1.0          (one after the other, output as it comes)

Each leg is `make test AIRFLOW=<leg>`: its venv is built from its lock (uv's cache is kept), and
its tests start and stop a stack of their own (own state folder, own free ports), so legs run side
by side; what they share (the BigQuery emulator's venv, Chromium) is set up once, first. The legs
start in the order given (the longest first balances the two at a time best). With more than one
job, a leg's output is shown whole when it ends (and is written meanwhile to a log file named at
its start, kept when a leg failed); every 5 minutes a line says which legs still run. At the end, a table of each leg's
counts and time, the wall time, and one line with the totals. The exit status is non-zero when
any leg failed. Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")
PROGRESS_EVERY = 300.0
_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


class Leg:
    def __init__(self, version: str, log_dir: Path):
        self.version = version
        self.log = log_dir / f"airflow-{version}.log"
        self.started = 0.0
        self.seconds = 0.0
        self.code: int | None = None
        self.summary = ""  # pytest's closing line: "== 212 passed, 3 skipped, 9 deselected in 301.2s =="
        self.last_line = ""

    @property
    def counts(self) -> dict[str, int]:
        return {k.rstrip("s") if k.startswith("error") else k: int(n) for n, k in COUNTS.findall(self.summary)}

    def run(self, stream: bool) -> Leg:
        """make test AIRFLOW=<leg>; its output to the log file, and to stdout as it comes when stream."""
        self.started = time.monotonic()
        where = "" if stream else f" (log: {self.log})"
        say(f"\n=== Airflow {self.version}: make test AIRFLOW={self.version}{where}")
        with self.log.open("w") as log:
            process = subprocess.Popen(
                ["make", "--no-print-directory", "test", f"AIRFLOW={self.version}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                log.flush()
                if stream:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                if line.strip():
                    self.last_line = line.strip()
                if COUNTS.search(line) and (" in " in line or line.startswith("=")):
                    self.summary = line
            self.code = process.wait()
        self.seconds = time.monotonic() - self.started
        if not stream:
            with _print_lock:
                print(f"\n=== Airflow {self.version}: its output ({_minutes(self.seconds)})", flush=True)
                sys.stdout.write(self.log.read_text())
                sys.stdout.flush()
        return self


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def shared_setup() -> int:
    """What every leg uses, set up once before the legs run side by side (two makes would race on it)."""
    say("=== shared set-up: make setup-shared (the BigQuery emulator's venv, Chromium)")
    argv = ["make", "--no-print-directory", "setup-shared"]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, check=False).returncode


def progress(legs: list[Leg], done: threading.Event) -> None:
    while not done.wait(PROGRESS_EVERY):
        running = [leg for leg in legs if leg.started and leg.code is None]
        for leg in running:
            running_for = _minutes(time.monotonic() - leg.started)
            say(f"... Airflow {leg.version} still running ({running_for}): {leg.last_line[:100]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("legs", nargs="+", help="Airflow versions of the matrix, started in this order")
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.getenv("TAXI_MATRIX_JOBS", "2")),
        help="legs at a time (default: TAXI_MATRIX_JOBS, or 2)",
    )
    args = parser.parse_args(argv)
    jobs = max(1, min(args.jobs, len(args.legs)))
    started = time.monotonic()
    if shared_setup() != 0:
        say("matrix: 0 passed, 1 failed, 0 skipped (the shared set-up failed)")
        return 1
    log_dir = Path(tempfile.mkdtemp(prefix="taxi-flows-matrix-"))
    legs = [Leg(version, log_dir) for version in args.legs]
    done = threading.Event()
    watcher = threading.Thread(target=progress, args=(legs, done), daemon=True)
    watcher.start()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda leg: leg.run(stream=jobs == 1), legs))
    done.set()
    wall = time.monotonic() - started

    say(f"\n=== version matrix ({jobs} leg{'s' if jobs > 1 else ''} at a time)")
    columns = ("passed", "failed", "error", "skipped", "deselected")
    titles = " ".join(f"{c + ('s' if c == 'error' else ''):>10}" for c in columns)
    say(f"{'Airflow':<10} {'result':<8} {titles} {'time':>10}")
    for leg in legs:
        result = "ok" if leg.code == 0 else "FAILED"
        counts = " ".join(f"{leg.counts.get(c, 0):>10}" for c in columns)
        say(f"{leg.version:<10} {result:<8} {counts} {_minutes(leg.seconds):>10}")
    legs_time = _minutes(sum(leg.seconds for leg in legs))
    say(f"wall time {_minutes(wall)} (shared set-up included); the legs' own times add up to {legs_time}")
    total = {k: sum(leg.counts.get(k, 0) for leg in legs) for k in ("passed", "failed", "error", "skipped")}
    failed_legs = [leg for leg in legs if leg.code != 0]
    # A failed leg whose pytest never printed counts (a broken install) still counts as a failure.
    silent = [leg for leg in failed_legs if not (leg.counts.get("failed") or leg.counts.get("error"))]
    failed = total["failed"] + total["error"] + len(silent)
    if failed_legs:
        say(f"the legs' logs: {log_dir}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    say(f"matrix: {total['passed']} passed, {failed} failed, {total['skipped']} skipped")
    return 1 if failed_legs else 0


if __name__ == "__main__":
    sys.exit(main())
