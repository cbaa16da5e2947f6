"""Run the test suite on every leg of the version matrix, one after the other, and summarise.

    python -m taxi_dev.matrix 3.3.2 3.3.1 3.1.0 2.10.5      (what `make test-all` and CI run)

Each leg is `make test AIRFLOW=<leg>`: its venv is built from its lock (uv's cache is kept), and
its tests start and stop a stack of their own. The output of every leg is shown as it runs; at the
end, a table of each leg's counts and time, and one line with the totals. The exit status is
non-zero when any leg failed. Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")


def run_leg(leg: str) -> tuple[int, dict[str, int], float]:
    print(f"\n=== Airflow {leg}: make test AIRFLOW={leg}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "test", f"AIRFLOW={leg}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    summary = ""
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        if COUNTS.search(line) and (" in " in line or line.startswith("=")):
            summary = line  # pytest's closing line: "== 212 passed, 3 skipped in 301.2s =="
    code = process.wait()
    counts = {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in COUNTS.findall(summary)}
    return code, counts, time.monotonic() - started


def main(legs: list[str]) -> int:
    results = {leg: run_leg(leg) for leg in legs}
    print("\n=== version matrix")
    print(f"{'Airflow':<10} {'result':<8} {'passed':>7} {'failed':>7} {'errors':>7} {'skipped':>8} {'time':>9}")
    for leg, (code, counts, seconds) in results.items():
        result = "ok" if code == 0 else "FAILED"
        minutes, rest = divmod(round(seconds), 60)
        print(
            f"{leg:<10} {result:<8} {counts.get('passed', 0):>7} {counts.get('failed', 0):>7} "
            f"{counts.get('error', 0):>7} {counts.get('skipped', 0):>8} {minutes:>5}m{rest:02d}s"
        )
    total = {k: sum(c.get(k, 0) for _, c, _ in results.values()) for k in ("passed", "failed", "error", "skipped")}
    failed_legs = [leg for leg, (code, _, _) in results.items() if code != 0]
    # A failed leg whose pytest never printed counts (a broken install) still counts as a failure.
    silent = [leg for leg in failed_legs if not (results[leg][1].get("failed") or results[leg][1].get("error"))]
    failed = total["failed"] + total["error"] + len(silent)
    print(f"matrix: {total['passed']} passed, {failed} failed, {total['skipped']} skipped")
    return 1 if failed_legs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
