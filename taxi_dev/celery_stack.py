"""The CeleryExecutor of the local stack, as Cloud Composer runs tasks: Debian's Redis as the broker
(on 127.0.0.1, with a password, no persistence) and two `airflow celery worker` processes. Each
worker has a HOME and a TMPDIR of its own, so a task that hands another a local file fails here as
it would on Composer, whose workers share no disk; each reports its own host name
(`celery-worker-1@<host>`), which the UI shows on the task instance. Their task processes' results
go to Airflow's metadata database.

TAXI_EXECUTOR=CeleryExecutor selects it for `make ui` and `make demo` (README, "Executors").
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from taxi_dev import procs
from taxi_dev.settings import StackSettings

WORKERS = ("celery-worker-1", "celery-worker-2")
HOSTNAME_CALLABLE = "taxi_dev.celery_stack.worker_hostname"

REDIS_HINT = (
    "The CeleryExecutor needs Redis (redis-server) as its broker: `make setup` installs Debian's package "
    "when run as root; otherwise install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew "
    "install redis) or set TAXI_REDIS_BIN to the binary."
)


def worker_hostname() -> str:
    """[core] hostname_callable of the stack's workers: the worker's name and the machine's, as
    Celery names its nodes, so the UI says which of the two ran a task."""
    return f"{os.getenv('TAXI_WORKER_NAME', 'celery-worker')}@{socket.getfqdn()}"


def redis_binary() -> str:
    found = os.getenv("TAXI_REDIS_BIN") or shutil.which("redis-server")
    if not found:
        raise SystemExit(REDIS_HINT)
    return found


def redis_conf(s: StackSettings) -> Path:
    """The server's settings, in a file only its owner reads (the password is not on a command
    line, where `ps` shows it to every user)."""
    folder = s.state_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "redis.conf"
    lines = [
        "bind 127.0.0.1",
        f"port {s.redis_port}",
        "protected-mode yes",
        f"requirepass {s.redis_password}",
        # A broker of a local stack: queued messages need not survive a restart.
        'save ""',
        "appendonly no",
        f"dir {folder}",
        "daemonize no",
        'logfile ""',
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def redis_ping(s: StackSettings) -> bool:
    """AUTH and PING in Redis's protocol: True once the server answers PONG."""
    password = s.redis_password
    request = f"*2\r\n$4\r\nAUTH\r\n${len(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n".encode()
    try:
        with socket.create_connection(("127.0.0.1", s.redis_port), timeout=2) as conn:
            conn.sendall(request)
            reply = b""
            while b"PONG" not in reply and b"-" not in reply and len(reply) < 256:
                chunk = conn.recv(256)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return False
    return b"+PONG" in reply


def start_redis(s: StackSettings) -> int:
    pid = procs.read_pid(s.run_dir / "redis.pid")
    if pid and procs.pid_alive(pid):
        return pid
    pid = procs.spawn("redis", [redis_binary(), str(redis_conf(s))], s.run_dir)
    log = s.run_dir / "redis.log"

    def ready() -> bool:
        if not procs.pid_alive(pid):
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"Redis exited (port {s.redis_port} taken? set TAXI_REDIS_PORT):\n{text[-2000:]}")
        return redis_ping(s)

    procs.wait_until(ready, "Redis", timeout=30, log=log)
    return pid


def worker_env(s: StackSettings, name: str) -> dict[str, str]:
    """What sets a worker apart: its HOME and TMPDIR (nothing of another worker's), its host name."""
    home, tmp = s.state_dir / "workers" / name / "home", s.state_dir / "workers" / name / "tmp"
    for folder in (home, tmp):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "TAXI_WORKER_NAME": name,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE,
    }


def worker_argv(airflow: str, name: str) -> list[str]:
    # --skip-serve-logs: the log server listens on every interface and a fixed port (two workers on
    # one machine would collide); the api-server reads the log files, on this machine.
    return [airflow, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]


def start_workers(s: StackSettings, airflow: str, env: dict[str, str]) -> dict[str, int]:
    """Both workers (those not running yet), with pid files; waits until Celery says each is ready."""
    pids = {}
    for name in WORKERS:
        pid = procs.read_pid(s.run_dir / f"{name}.pid")
        if not (pid and procs.pid_alive(pid)):
            pid = procs.spawn(name, worker_argv(airflow, name), s.run_dir, env={**env, **worker_env(s, name)})
        pids[name] = pid
    for name, pid in pids.items():
        log = s.run_dir / f"{name}.log"
        procs.wait_until(lambda n=name, p=pid: _ready(s, n, p), f"the Celery worker {name}", 120, log)
    return pids


def _ready(s: StackSettings, name: str, pid: int) -> bool:
    log = s.run_dir / f"{name}.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    if not procs.pid_alive(pid):
        raise RuntimeError(f"the Celery worker {name} exited:\n{text[-3000:]}")
    return f"{name}@" in text and " ready." in text


def stop(s: StackSettings, redis: bool = True) -> list[str]:
    """Stop the workers, then Redis unless redis=False (by their pid files); the names of those that ran."""
    names = (*WORKERS, "redis") if redis else WORKERS
    return [name for name in names if procs.stop_pid_file(s.run_dir / f"{name}.pid")]
