"""A real Airflow 3.3 on this machine, for the tests: PostgreSQL metadata, api-server, scheduler, dag-processor.

``Deployment.start`` creates a dedicated PostgreSQL database for Airflow's metadata, runs ``airflow db
migrate``, and starts ``airflow api-server`` on a free port, ``airflow scheduler`` and ``airflow
dag-processor``, each as a process of its own session with its output in a log file under the
deployment's folder. The executors are LocalExecutor (the default) and CeleryExecutor (chosen per DAG
with ``executor=``; ``start_celery_workers`` starts ``airflow celery worker`` processes over the Redis at
127.0.0.1:6379, on a queue of this deployment's own). ``stop`` ends every process it started, by pid
(SIGTERM, then SIGKILL to the process group after a grace period), and drops the database.

The store URL reaches the DAGs as the Airflow Variable ``katib_flows_db``, from the environment
(``AIRFLOW_VAR_KATIB_FLOWS_DB``), never written into a DAG file. Login: user ``admin``, password in
``PASSWORD`` (Airflow's SimpleAuthManager with a passwords file written here).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PASSWORD = "katib-flows-test"
USER = "admin"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Deployment:
    home: Path
    admin_url: str  # a PostgreSQL URL whose user may create databases
    store_url: str
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = 0
    database: str = ""
    queue: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dags(self) -> Path:
        return self.home / "dags"

    def env(self) -> dict[str, str]:
        metadata = sa.make_url(self.admin_url).set(drivername="postgresql+psycopg2", database=self.database)
        passwords = self.home / "passwords.json"
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor,CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "16",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.render_as_string(hide_password=False),
            "AIRFLOW__API_AUTH__JWT_SECRET": (self.home.name + "-jwt-secret-of-this-test-deployment-" * 4)[:96],
            "AIRFLOW__API__SECRET_KEY": self.home.name + "-secret-key",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata.render_as_string(hide_password=False),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW_VAR_KATIB_FLOWS_DB": self.store_url,
            **self.env_extra,
        }
        env.pop("KATIB_FLOWS_DB", None)  # the DAGs must find the store through the Variable
        return env

    def start(self) -> None:
        self.port = free_port()
        suffix = f"{os.getpid()}_{secrets.token_hex(4)}"
        self.database, self.queue = f"kfa_{suffix}", f"katib-flows-test-{suffix}"
        self.dags.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
        with self._admin() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{self.database}"'))
        self.airflow("db", "migrate", timeout=600)
        self._spawn("api-server", "api-server", "--port", str(self.port), "--host", "127.0.0.1")
        self._spawn("scheduler", "scheduler")
        self._spawn("dag-processor", "dag-processor")
        self.wait_healthy()

    def start_celery_workers(self, count: int) -> list[str]:
        names = []
        for index in range(count):
            name = f"celery-worker-{index}"
            self._spawn(
                name, "celery", "worker", "--queues", self.queue, "--concurrency", "4",
                "--celery-hostname", f"{name}-{self.queue}@%h", "--without-mingle", "--without-gossip",
            )  # fmt: skip
            names.append(name)
        return names

    def airflow(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.home / f"{name}.log").open("ab")
        # Each process that runs tasks serves their logs on a port of its own (8793 may be taken here).
        env = {**self.env(), "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        self.processes[name] = subprocess.Popen(
            [str(BIN / "airflow"), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.home,
        )  # fmt: skip
        log.close()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process we started and everything in its session (a host lost, for kill -9 tests)."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=60)

    def kill_tree(self, name: str) -> list[int]:
        """SIGKILL one process we started and all its descendants, trials in their own sessions included:
        what a lost host does to a Celery worker. The pids killed."""
        import psutil  # an Airflow dependency

        root = psutil.Process(self.processes[name].pid)
        doomed = [root, *root.children(recursive=True)]
        for process in doomed:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.processes[name].wait(timeout=60)
        return [p.pid for p in doomed]

    def worker_of(self, pid: int) -> str | None:
        """Which of our processes ``pid`` descends from."""
        import psutil

        try:
            ancestors = {p.pid for p in psutil.Process(pid).parents()}
        except psutil.NoSuchProcess:
            return None
        return next((name for name, process in self.processes.items() if process.pid in ancestors), None)

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def wait_healthy(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"airflow {name} exited {process.returncode}:\n{self.log(name)[-4000:]}")
            health = self.get("/api/v2/monitor/health", auth=False)
            statuses = {part: (health or {}).get(part, {}).get("status") for part in ("scheduler", "dag_processor")}
            if set(statuses.values()) == {"healthy"}:
                return
            time.sleep(2)
        raise RuntimeError(f"Airflow at {self.url} did not become healthy:\n{self.log('scheduler')[-4000:]}")

    def token(self) -> str:
        if self._token:
            return self._token
        request = urllib.request.Request(
            f"{self.url}/auth/token",
            data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            self._token = str(json.loads(response.read())["access_token"])
        return self._token

    def get(self, path: str, *, auth: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"} if auth else {}
        request = urllib.request.Request(f"{self.url}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def add_dag(self, name: str, text: str, dag_id: str, timeout: float = 300) -> None:
        """Put a DAG file into the DAG folder and wait until Airflow parsed it (and reports no import error)."""
        (self.dags / name).write_text(text, encoding="utf-8")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            errors = self.get("/api/v2/importErrors") or {}
            for error in errors.get("import_errors", []):
                if str(error.get("filename", "")).endswith(name):
                    raise AssertionError(f"Airflow could not import {name}:\n{error.get('stack_trace')}")
            if self.get(f"/api/v2/dags/{dag_id}"):
                return
            time.sleep(2)
        raise AssertionError(f"Airflow did not parse {name} within {timeout}s:\n{self.log('dag-processor')[-4000:]}")

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}") or run
            if run.get("state") in ("success", "failed"):
                return run
            time.sleep(3)
        raise AssertionError(f"run {dag_id}/{run_id} did not end within {timeout}s: {run}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000") or {}
        return list(answer.get("task_instances", []))

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):  # what it left in its session (executor children)
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        if self.database:
            with self._admin() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))

    def _admin(self) -> Any:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        return _Closing(engine)


class _Closing:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def __enter__(self) -> sa.Connection:
        self.connection = self.engine.connect()
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()
        self.engine.dispose()
