"""Private MariaDB and PostgreSQL servers that a test may stop and start, never touching the shared ones.

Each server lives in its own temporary folder (data, socket, log) on a free port, started from the
installed binaries: ``mariadb-install-db`` + ``mariadbd``, and ``initdb`` + ``pg_ctl``. PostgreSQL refuses to
run as root, so its binaries run as the ``postgres`` user (``runuser``) in a folder that user owns. The
fixtures in ``tests/conftest.py`` start one of each per test session, lazily, and stop them at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateServer:
    """A database server of this test session: ``url(db)``, ``stop()``, ``start()``, ``close()``."""

    kind = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix=f"kft-{self.kind}-", dir="/tmp"))
        self.running = False

    def admin_url(self) -> str:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def new_database(self, name: str) -> str:
        """Create an empty database (MariaDB) or schema (PostgreSQL) and return a store URL for it."""
        raise NotImplementedError

    def close(self) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _wait_ready(self, timeout: float = 60) -> None:
        engine = sa.create_engine(self.admin_url())
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    with engine.connect() as connection:
                        connection.execute(sa.text("SELECT 1"))
                    return
                except sa.exc.OperationalError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            engine.dispose()

    def _admin(self, statement: str) -> None:
        engine = sa.create_engine(self.admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(statement))
        finally:
            engine.dispose()


class PrivateMariaDB(PrivateServer):
    kind = "mariadb"

    def __init__(self) -> None:
        super().__init__()
        self.data = self.folder / "data"
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=root", "--skip-test-db",
             "--auth-root-authentication-method=normal"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.start()

    def admin_url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/mysql"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.data}", "--user=root", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.folder / 'mysqld.sock'}", "--skip-grant-tables",
             f"--pid-file={self.folder / 'mysqld.pid'}", f"--log-error={self.folder / 'error.log'}",
             "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M", "--skip-log-bin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.running = True
        self._wait_ready()

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.running = False

    def new_database(self, name: str) -> str:
        self._admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{name}"


class PrivatePostgres(PrivateServer):
    kind = "postgres"

    def __init__(self) -> None:
        super().__init__()
        shutil.chown(self.folder, user="postgres")
        self.data = self.folder / "data"
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} -c fsync=off"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-o", options,
                          "start")  # fmt: skip
        self.running = True
        self._wait_ready()

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def new_database(self, name: str) -> str:
        self._admin(f'CREATE SCHEMA "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres?options=-csearch_path%3D{name}"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.folder)


def start_private(kind: str) -> PrivateServer:
    """Start a private server, or fail the test with what is missing."""
    needed = {"mariadb": ["mariadb-install-db", "mariadbd"], "postgres": ["initdb", "pg_ctl"]}[kind]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"private {kind} server: {', '.join(missing)} not found on PATH (install the server)")
    return PrivateMariaDB() if kind == "mariadb" else PrivatePostgres()
