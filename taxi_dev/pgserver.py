"""A PostgreSQL server of the machine's own binaries, in a folder of the stack.

The server binaries refuse to run as root, so as root they run as the `postgres` system user
(through runuser) in a folder that user owns; as any other user they run as that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from taxi_dev import procs
from taxi_dev.settings import StackSettings

# Who may connect: the server's OS user on its socket, everyone else with the password on 127.0.0.1.
HBA = """# taxi_dev.pgserver: written at every start
local all all peer
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. Install them, e.g. "
    "`apt-get install postgresql` on Debian/Ubuntu or `brew install postgresql@15` on macOS, "
    "or point TAXI_PG_BINDIR at the folder that holds them."
)


def bindir() -> Path:
    """Where initdb/pg_ctl live; installs Debian's server package when run as root and missing."""
    found = _find_bindir()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("PostgreSQL server binaries missing: installing Debian's postgresql package (as root)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=False, env=env)
        found = _find_bindir()
    if found is None:
        raise SystemExit(INSTALL_HINT)
    return found


def _find_bindir() -> Path | None:
    candidates = []
    if os.getenv("TAXI_PG_BINDIR"):
        candidates.append(os.environ["TAXI_PG_BINDIR"])
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise SystemExit(
            "Running as root, and the PostgreSQL server refuses root: create the `postgres` system "
            "user (Debian's postgresql package does) or run the stack as a normal user."
        ) from None
    return ["runuser", "-u", "postgres", "--", *argv]


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for p in [path, *path.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid)


class PgServer:
    def __init__(self, settings: StackSettings):
        self.s = settings

    @property
    def pid_file(self) -> Path:
        return self.s.pg_data / "postmaster.pid"

    @property
    def log_file(self) -> Path:
        return self.s.pg_socket_dir / "server.log"

    def pid(self) -> int | None:
        pid = procs.read_pid(self.pid_file)
        return pid if pid and procs.pid_alive(pid) else None

    def init(self) -> None:
        if (self.s.pg_data / "PG_VERSION").exists():
            return
        bins = bindir()
        self.s.pg_data.mkdir(parents=True, exist_ok=True)
        _chown_to_server_user(self.s.pg_socket_dir)
        subprocess.run(
            _as_server_user(
                [
                    str(bins / "initdb"),
                    "-D",
                    str(self.s.pg_data),
                    "-U",
                    self.s.pg_user,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-instructions",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> int:
        if pid := self.pid():
            return pid
        self.init()
        bins = bindir()
        options = " ".join(
            [
                f"-p {self.s.pg_port}",
                f"-k {self.s.pg_socket_dir}",
                "-c unix_socket_permissions=0700",  # the socket: for the server's own user only
                "-c listen_addresses=127.0.0.1",
                # A local work server: more memory for sorts and COPY, fewer fsyncs per commit.
                # synchronous_commit=off trades durability for speed: a crash of the server (not of a
                # task) may lose the last transactions a run committed; run those months again.
                "-c shared_buffers=256MB",
                "-c max_wal_size=2GB",
                "-c synchronous_commit=off",
                "-c max_connections=100",
            ]
        )
        result = subprocess.run(
            _as_server_user(
                [
                    str(bins / "pg_ctl"),
                    "-D",
                    str(self.s.pg_data),
                    "-l",
                    str(self.log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            hint = ""
            if "already in use" in tail or "could not bind" in tail:
                hint = f"\nPort {self.s.pg_port} is taken: choose another with TAXI_PG_PORT=<port>."
            raise SystemExit(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{tail}{hint}")
        pid = self.pid()
        assert pid, "PostgreSQL started but wrote no pid file"
        self.require_password()
        return pid

    def require_password(self) -> None:
        """Password authentication (scram-sha-256) on 127.0.0.1, the server's own OS user only on the
        socket: initdb trusts every local user; a stack folder made before this is changed the same way."""
        import psycopg
        from psycopg import sql

        hba = self.s.pg_data / "pg_hba.conf"
        if hba.read_text() == HBA:
            return
        with psycopg.connect(self.s.pg_uri("postgres"), autocommit=True, connect_timeout=10) as conn:
            role, password = sql.Identifier(self.s.pg_user), sql.Literal(self.s.pg_password)
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, password))
            hba.write_text(HBA)  # in place: the file stays the server user's
            conn.execute("SELECT pg_reload_conf()")

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, then exit cleanly.
        return procs.stop_pid(pid, signal.SIGINT, timeout=60, group=False)

    def ensure_databases(self, *names: str) -> None:
        import psycopg

        with psycopg.connect(self.s.pg_uri("postgres"), autocommit=True, connect_timeout=10) as conn:
            for name in names:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{name}"')
