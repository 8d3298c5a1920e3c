"""A throw-away PostgreSQL server for tests, started from the distribution's own binaries.

Debian's ``postgresql`` package puts ``initdb`` and ``pg_ctl`` under
``/usr/lib/postgresql/<version>/bin`` (not on PATH). The server lives in a temporary
directory, listens on a free TCP port on 127.0.0.1 plus a unix socket in that directory,
trusts every local connection (user ``postgres``), and is stopped with ``-m immediate``.

PostgreSQL refuses to run as root, so when the tests run as root the server's commands run
as an unprivileged user (``nobody``, or a dedicated ``pgtest`` user created on demand).
"""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SEARCH_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")


def find_bin_dir() -> Path | None:
    """The newest directory holding both ``initdb`` and ``pg_ctl`` (``PG_BIN`` overrides)."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []

    def version(path: str) -> tuple:
        return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)

    for pattern in SEARCH_GLOBS:
        candidates += sorted(glob.glob(pattern), key=version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for cand in candidates:
        d = Path(cand)
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("nobody", "pgtest"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "pgtest"],
                   check=True, capture_output=True)
    return pwd.getpwnam("pgtest")


class PgServer:
    """``start()`` → ``url`` (database ``postgres``), ``url_for(db)``, ``create_database()``, ``stop()``."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = Path(bin_dir)
        self.port: int | None = None
        self._user = _unprivileged_user() if os.geteuid() == 0 else None
        # short path under /tmp: unix socket paths are limited to ~107 bytes, and the pytest
        # tmp dirs of root are 0700 (the unprivileged server user could not enter them)
        self.root = Path(tempfile.mkdtemp(prefix="pgt-", dir="/tmp" if os.path.isdir("/tmp") else None))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.log = self.root / "server.log"
        self._running = False
        self._dbs = 0

    # -------------------------------------------------- commands

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs = {}
        if self._user is not None:
            kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        env = {**os.environ, "HOME": str(self.root), "LC_ALL": "C", "LANG": "C"}
        return subprocess.run([str(self.bin_dir / args[0]), *args[1:]], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=self.root, **kwargs)

    def start(self) -> "PgServer":
        self.sock.mkdir()
        if self._user is not None:
            for p in (self.root, self.sock):
                os.chown(p, self._user.pw_uid, self._user.pw_gid)
        os.chmod(self.root, 0o700)
        res = self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8",
                        "--locale=C", "--no-sync")
        if res.returncode != 0:
            raise RuntimeError(f"initdb failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        errors = []
        for _ in range(3):  # the free port can be taken between probing and binding: retry
            port = free_port()
            opts = (f"-k {self.sock} -p {port} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            res = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                            "-o", opts, "start", timeout=90)
            if res.returncode == 0:
                self.port, self._running = port, True
                return self
            errors.append(f"{res.stdout}\n{res.stderr}\n{self.log.read_text() if self.log.exists() else ''}")
        raise RuntimeError("pg_ctl start failed:\n" + "\n---\n".join(errors))

    def stop(self) -> None:
        if self._running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self._running = False
        shutil.rmtree(self.root, ignore_errors=True)

    # -------------------------------------------------- databases

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        self._dbs += 1
        name = f"t{os.getpid()}_{self._dbs}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # name built here, not from input
        return self.url_for(name)
