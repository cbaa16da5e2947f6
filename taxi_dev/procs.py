"""Background processes of the local stack: started detached with a pid file, stopped by that pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0): ask /proc where it exists.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def spawn(name: str, argv: Sequence[str], run_dir: Path, env: dict[str, str] | None = None) -> int:
    """Start argv in its own session, output to run_dir/name.log; record its pid in run_dir/name.pid."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(run_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    log.close()
    (run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 30.0, group: bool = True) -> bool:
    """Signal pid (and its process group when it leads one); wait for it to go; SIGKILL at the end."""
    if not pid_alive(pid):
        return False

    def send(s: int) -> None:
        try:
            if group and os.getpgid(pid) == pid:
                os.killpg(pid, s)
            else:
                os.kill(pid, s)
        except ProcessLookupError:
            pass

    send(sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            _reap(pid)
            return True
        _reap(pid)
        time.sleep(0.1)
    send(signal.SIGKILL)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_pid_file(pid_file: Path, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
    pid = read_pid(pid_file)
    stopped = pid is not None and stop_pid(pid, sig, timeout)
    pid_file.unlink(missing_ok=True)
    return stopped


def wait_until(check: Callable[[], bool], what: str, timeout: float, log: Path | None = None) -> None:
    """Poll check() until it is true; fail with what, and the tail of log, after timeout seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    tail = ""
    if log and log.exists():
        tail = "\n--- last lines of " + str(log) + " ---\n" + "\n".join(log.read_text().splitlines()[-20:])
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f} s{tail}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local health check
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
