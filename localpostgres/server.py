"""Initialise, start, stop and inspect a local PostgreSQL from the machine's own server binaries, no Docker.

State lives in one data directory: the cluster in `pgdata/`, the server log in `server.log` and `postgres.json`
(port, user, database), so `status` and `stop` work from another process. PostgreSQL refuses to run as root:
as root (CI, containers) the cluster belongs to the `postgres` system user that the Debian/Ubuntu package
creates, and `initdb` and `pg_ctl` run through `runuser -u postgres --`. The server listens on loopback TCP
only (no Unix socket, so no socket directory has to be writable); the superuser `ticket_enricher` connects
without a password from 127.0.0.1 (`trust`), every other role needs one (scram-sha-256).
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ticket_enricher.core.errors import PostgresError
from ticket_enricher.localkafka.broker import free_port

SUPERUSER = "ticket_enricher"
DATABASE = "ticket_enricher"
SYSTEM_USER = "postgres"
# For tests and throwaway clusters only: a crash may lose or corrupt data.
UNSAFE_FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def find_bindir() -> Path | None:
    """Where `initdb`, `pg_ctl` and `postgres` are: TICKET_ENRICHER_PG_BINDIR, `pg_config --bindir`, the newest
    /usr/lib/postgresql/<version>/bin (Debian, Ubuntu), or PATH."""
    candidates: list[Path] = []
    override = os.environ.get("TICKET_ENRICHER_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                      if Path(p).parent.name.isdigit() else 0, reverse=True)
    candidates.extend(Path(p) for p in versions)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


@dataclass(frozen=True)
class PostgresStatus:
    running: bool
    dsn: str | None
    pid: int | None
    data_dir: Path

    def describe(self) -> str:
        if self.running:
            return f"running at {self.dsn} (pid {self.pid}, data {self.data_dir})"
        return f"not running (data {self.data_dir})"


class LocalPostgres:
    """One PostgreSQL cluster on loopback, owned by a data directory."""

    def __init__(self, data_dir: Path, port: int | None = None, *, host: str = "127.0.0.1",
                 bindir: Path | None = None, unsafe_fast: bool = False) -> None:
        """`unsafe_fast` turns off fsync and friends: for tests only, never for data anyone needs."""
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.host = host
        self._bindir = bindir
        self.unsafe_fast = unsafe_fast
        self._state = self.data_dir / "postgres.json"
        self.pgdata = self.data_dir / "pgdata"
        self.log_file = self.data_dir / "server.log"

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{DATABASE}"

    def bindir(self) -> Path:
        self._bindir = found = self._bindir or find_bindir()
        if found is None:
            raise PostgresError("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: install the "
                                "server package (Debian/Ubuntu: apt-get install postgresql) or set "
                                "TICKET_ENRICHER_PG_BINDIR")
        return found

    def _as_owner(self) -> list[str]:
        """The prefix that runs a server command as an unprivileged user: PostgreSQL refuses root."""
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresError(f"running as root, but there is no `{SYSTEM_USER}` system user to run "
                                "PostgreSQL as (the server package creates it)") from None
        if shutil.which("runuser") is None:
            raise PostgresError("running as root, but `runuser` (util-linux) is not on PATH")
        return ["runuser", "-u", SYSTEM_USER, "--"]

    def _tool(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [*self._as_owner(), str(self.bindir() / name), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise PostgresError(f"{name} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                                f"{self._log_tail()}")
        return result

    def _prepare_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return
        user = pwd.getpwnam(SYSTEM_USER)
        os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        self.data_dir.chmod(0o700)
        reach = subprocess.run([*self._as_owner(), "test", "-w", str(self.data_dir)], capture_output=True)
        if reach.returncode != 0:
            blocked = next((p for p in self.data_dir.parents if not p.stat().st_mode & 0o001), None)
            raise PostgresError(
                f"the `{SYSTEM_USER}` user cannot reach {self.data_dir}"
                + (f" ({blocked} is not traversable by other users)" if blocked else "")
                + "; choose a --data-dir it can reach, e.g. under /tmp or /var/lib")

    def status(self) -> PostgresStatus:
        if not self._state.exists():
            return PostgresStatus(False, None, None, self.data_dir)
        state = json.loads(self._state.read_text())
        pid = _postmaster_pid(self.pgdata)
        dsn = f"postgresql://{state['user']}@{state['host']}:{state['port']}/{state['database']}"
        running = pid is not None and _alive(pid) and _ready(self.pgdata)
        return PostgresStatus(running, dsn, pid, self.data_dir)

    def start(self, timeout: float = 60.0, say: Callable[[str], None] = print) -> str:
        """Initialise the cluster on first use, start it and return its DSN once it accepts connections."""
        current = self.status()
        if current.running:
            assert current.dsn is not None
            say(f"PostgreSQL already {current.describe()}")
            return current.dsn
        self._prepare_dir()
        saved = json.loads(self._state.read_text()) if self._state.exists() else {}
        self.port = self.port or saved.get("port") or free_port(self.host)
        first = not (self.pgdata / "PG_VERSION").exists()
        if first:
            say(f"Initialising a PostgreSQL cluster in {self.pgdata} (first use only)…")
            self._tool("initdb", "-D", str(self.pgdata), "-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8",
                       "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
            hba = self.pgdata / "pg_hba.conf"
            rules = f"host all {SUPERUSER} 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
            hba.write_text(rules)  # initdb made the file: its owner stays the cluster's user
        settings = ["listen_addresses=" + self.host, f"port={self.port}", "unix_socket_directories=",
                    "max_connections=200", *(UNSAFE_FAST if self.unsafe_fast else ())]
        options = " ".join(f"-c {s}" if not s.endswith("=") else f"-c {s}''" for s in settings)
        self._tool("pg_ctl", "-D", str(self.pgdata), "-l", str(self.log_file), "-o", options,
                   "-w", "-t", str(int(timeout)), "start")
        self._state.write_text(json.dumps({"host": self.host, "port": self.port, "user": SUPERUSER,
                                           "database": DATABASE}))
        if first:
            self._create_database(timeout)
        return self.dsn

    def _create_database(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.create_database(DATABASE)
                return
            except PostgresError as exc:
                if "already exists" in str(exc):
                    return
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def create_database(self, name: str) -> str:
        """A new, empty database on the running server; returns its DSN."""
        self._client("createdb", name)
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{name}"

    def drop_database(self, name: str) -> None:
        """Drop a database, ending its connections first."""
        self._client("dropdb", "--force", "--if-exists", name)

    def _client(self, tool: str, *args: str) -> None:
        port = self.port or json.loads(self._state.read_text())["port"]
        done = subprocess.run([str(self.bindir() / tool), "-h", self.host, "-p", str(port), "-U", SUPERUSER,
                               *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise PostgresError(f"{tool} {' '.join(args)} failed: {done.stderr.strip()}")

    def stop(self, timeout: float = 30.0) -> bool:
        """A fast shutdown (open transactions rolled back), immediate after `timeout`. True if one was running."""
        if not self._state.exists() or not (self.pgdata / "PG_VERSION").exists():
            return False
        pid = _postmaster_pid(self.pgdata)
        was_running = pid is not None and _alive(pid)
        if was_running:
            done = self._tool("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", str(int(timeout)),
                              "stop", check=False)
            if done.returncode != 0:
                self._tool("pg_ctl", "-D", str(self.pgdata), "-m", "immediate", "-w", "stop", check=False)
        return was_running

    def _log_tail(self, lines: int = 20) -> str:
        if not self.log_file.exists():
            return ""
        tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return "\n--- " + str(self.log_file) + "\n" + "\n".join(tail) if tail else ""


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(first) if first.strip().isdigit() else None


def _ready(pgdata: Path) -> bool:
    """The status line pg_ctl itself waits for: the postmaster accepts connections."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[7].strip() == "ready"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
