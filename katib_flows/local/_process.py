"""One trial as a local process: start it as an argument list, stream its output, stop it.

Used by the local lanes. The process runs in a session of its own (a new process group), so stopping a
trial stops whatever it started too; stopping sends SIGTERM to the group, then SIGKILL after a grace
period, like Kubernetes does to a pod. Output (stdout and stderr merged, as a container log is) is
read line by line by the caller's thread, so metrics are parsed while the trial runs. Never a shell.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from katib_flows.errors import TrialCommandError

#: The stop reason of a trial that ran past its ``activeDeadlineSeconds``.
DEADLINE_EXCEEDED = "DeadlineExceeded"
DEFAULT_GRACE_SECONDS = 5.0
TAIL_LINES = 20


@dataclass(frozen=True)
class Command:
    """What to execute for one trial: the rendered argument list, its environment and folder."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    timeout: float | None = None


class TrialProcess:
    """A started trial process. Iterate ``lines()`` until it ends, then read ``returncode``."""

    def __init__(self, command: Command, *, extra_env: Mapping[str, str] | None = None) -> None:
        env = {**os.environ, **command.env, **(extra_env or {})}
        env.setdefault("PYTHONUNBUFFERED", "1")
        try:
            self._popen = subprocess.Popen(
                command.argv,
                cwd=command.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except FileNotFoundError as exc:
            where = f" (working directory {command.cwd})" if command.cwd else ""
            raise TrialCommandError(
                f"cannot start {command.argv[0]!r}{where}: no such program; check the trial template's command "
                "and that the program is installed on this machine"
            ) from exc
        except (PermissionError, NotADirectoryError, OSError) as exc:
            raise TrialCommandError(f"cannot start {command.argv!r}: {exc}") from exc
        self.pid = self._popen.pid
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.stop_reason: str | None = None
        self._lock = threading.Lock()
        self._killers: list[threading.Timer] = []
        self._group_gone = False
        self._timer: threading.Timer | None = None
        if command.timeout:
            self._timer = threading.Timer(command.timeout, self._time_out)
            self._timer.daemon = True
            self._timer.start()

    def lines(self) -> Iterator[str]:
        """Each output line as it is written, without its newline; ends when the process closes its output."""
        assert self._popen.stdout is not None
        for line in self._popen.stdout:
            line = line.rstrip("\n")
            self.tail.append(line)
            yield line

    def wait(self) -> int:
        code = self._popen.wait()
        if self._timer is not None:
            self._timer.cancel()
        if self._popen.stdout is not None:
            self._popen.stdout.close()
        with self._lock:
            # Nothing of the trial is left to kill: no SIGKILL timer need outlive it.
            self._group_gone = not self._signal(0)
            if self._group_gone:
                for killer in self._killers:
                    killer.cancel()
        return code

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    def stop(self, reason: str, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """SIGTERM to the process group, SIGKILL after ``grace`` seconds; safe to call more than once."""
        if self.stop_reason is None:
            self.stop_reason = reason
        with self._lock:
            if not self._signal(signal.SIGTERM) or self._group_gone:
                return
            killer = threading.Timer(grace, self._signal, args=(signal.SIGKILL,))
            killer.daemon = True
            killer.start()
            self._killers.append(killer)

    def _time_out(self) -> None:
        self.stop(DEADLINE_EXCEEDED)

    def _signal(self, sig: int) -> bool:
        """Send ``sig`` to the group (0 only asks whether it exists); False when no process of it is left."""
        # To the group even when the leader has exited: what it started may still run.
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
