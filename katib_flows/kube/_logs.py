"""Following the primary container's log across the primary pods of one trial, each line exactly once.

The Kubernetes runner starts one ``LogFollower`` per followed container of a trial (the primary one, and
the collector sidecar when there is one), grouped in ``Followers``. It finds the primary pods by label
(the kind's own job label plus ``primaryPodLabels``), oldest first, and streams the container's log of
each with timestamps until the pod ends: a Job that retries makes a new pod, a training job may restart
the container in place. A stream that breaks (API server restart, idle timeout) is opened again and the
lines at or before the last timestamp seen are skipped, so no line reaches ``on_line`` twice. When the
trial's object has finished, ``Followers.finish`` lets the streams drain (the containers have ended, so
they close by themselves) for a bounded time; ``stop`` ends at once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from katib_flows.errors import ClusterError
from katib_flows.kube._api import KubeApi, LogStream

_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) ")
#: Seconds added to the time since the last line when a stream is opened again; duplicates are skipped.
_RESUME_MARGIN = 30
#: Pod status reasons and conditions that mean the node or the cluster ended the pod, not the trial's code.
INFRASTRUCTURE_REASONS = ("Evicted", "NodeLost", "NodeShutdown", "Shutdown", "Terminated", "UnexpectedAdmissionError",
                          "Preempting", "OutOfcpu", "OutOfmemory")  # fmt: skip


def _position(stamp: str, zone: str, fraction: str | None) -> str:
    """A sortable form of an RFC 3339 (nano) timestamp: Kubernetes trims trailing zeros of the fraction."""
    return f"{stamp}.{(fraction or '').ljust(9, '0')}{zone}"


class LogFollower:
    """Feeds every line of the primary container of the trial's primary pods to ``on_line``, in order."""

    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        selector: dict[str, str],
        container: str,
        on_line: Callable[[str], None],
        *,
        poll_seconds: float,
    ) -> None:
        self.api, self.namespace, self.selector, self.container = api, namespace, selector, container
        self.on_line, self.poll_seconds = on_line, poll_seconds
        self.pods: list[dict[str, Any]] = []  # the primary pods last seen, for the infrastructure check
        self.error: ClusterError | None = None  # a permanent error that stopped the follower
        self._done: set[str] = set()
        self._seen: dict[str, tuple[str, int, float]] = {}  # pod -> (last position, lines at it, monotonic)
        self._finishing = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._stream: LogStream | None = None
        self._replay = 0
        self._thread = threading.Thread(target=self._run, name=f"logs-{container}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finishing(self) -> None:
        """The trial's object has finished: read what is left of the logs, then end (see ``drained``)."""
        self._finishing.set()

    def drained(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the follower to read what was left after ``finishing``."""
        self._thread.join(seconds)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                pod = self._next_pod()
                if pod is not None:
                    self._follow(pod)
                    continue
            except ClusterError as exc:
                if not exc.temporary:
                    self.error = exc
                    return
            if self._finishing.is_set():
                return  # the object finished and no pod is left to read
            self._stopping.wait(self.poll_seconds)

    def _next_pod(self) -> dict[str, Any] | None:
        self.pods = self.api.pods(self.namespace, self.selector)
        for pod in self.pods:
            name = pod["metadata"]["name"]
            if name in self._done:
                continue
            if self._started(pod):
                return pod
            if _phase(pod) in ("Succeeded", "Failed"):
                self._done.add(name)  # ended before its container ever ran (an image that cannot be pulled)
        return None

    def _started(self, pod: dict[str, Any]) -> bool:
        """Whether the primary container has run at all: the log API refuses a container still waiting."""
        status_of = pod.get("status") or {}
        for status in [*(status_of.get("initContainerStatuses") or []), *(status_of.get("containerStatuses") or [])]:
            if status.get("name") == self.container:
                state = status.get("state") or {}
                return "running" in state or "terminated" in state or bool(status.get("restartCount"))
        return False

    def _follow(self, pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        seen = self._seen.get(name)
        since = int(time.monotonic() - seen[2]) + _RESUME_MARGIN if seen else None
        stream = self.api.follow_log(self.namespace, name, self.container, since)
        with self._lock:
            self._stream = stream
        self._replay = 0  # lines at the last position seen, in this stream
        ended_cleanly = False
        try:
            for raw in stream.lines():
                self._line(name, raw)
            ended_cleanly = True
        except ClusterError:
            pass  # opened again below, unless we are stopping
        finally:
            with self._lock:
                self._stream = None
        if self._stopping.is_set():
            return
        if ended_cleanly and self._ended(name):
            self._done.add(name)
        else:  # the container restarts, or the stream broke: read again after a pause
            self._stopping.wait(self.poll_seconds)

    def _ended(self, name: str) -> bool:
        """After a stream closed: is the pod over (no restart of the container coming)?"""
        for pod in self.api.pods(self.namespace, self.selector):
            if pod["metadata"]["name"] == name:
                return _phase(pod) in ("Succeeded", "Failed") or self._finishing.is_set()
        return True  # the pod is gone

    def _line(self, pod: str, raw: str) -> None:
        """Deliver a line unless an earlier stream of this pod delivered it (same or earlier timestamp)."""
        match = _TIMESTAMP.match(raw)
        if match is None:  # not timestamped (an API server that ignores the option): taken as it is
            self.on_line(raw)
            return
        position = _position(match.group(1), match.group(3), match.group(2))
        last, delivered, _ = self._seen.get(pod, ("", 0, 0.0))
        if position < last:
            return
        if position == last:
            self._replay += 1
            if self._replay <= delivered:
                return
            delivered += 1
        else:
            last, delivered, self._replay = position, 1, 1
        self._seen[pod] = (last, delivered, time.monotonic())
        self.on_line(raw[match.end() :])


class Followers:
    """The log followers of one trial (the primary container's, the collector sidecar's), drained together."""

    def __init__(self, *followers: LogFollower) -> None:
        self.all = followers

    @property
    def pods(self) -> list[dict[str, Any]]:
        return self.all[0].pods

    @property
    def errors(self) -> list[ClusterError]:
        return [f.error for f in self.all if f.error is not None]

    def start(self) -> None:
        for follower in self.all:
            follower.start()

    def finish(self, drain_seconds: float) -> None:
        """The trial's object has finished: let every stream drain, within ``drain_seconds`` in all."""
        deadline = time.monotonic() + drain_seconds
        for follower in self.all:
            follower.finishing()
        for follower in self.all:
            follower.drained(max(0.0, deadline - time.monotonic()))
        self.stop()

    def stop(self) -> None:
        for follower in self.all:
            follower.stop()


def _phase(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def infrastructure_fault(pods: list[dict[str, Any]]) -> str | None:
    """Why the cluster, not the trial's code, ended one of these pods (eviction, node lost), or None."""
    for pod in pods:
        status = pod.get("status") or {}
        name = pod["metadata"]["name"]
        if status.get("reason") in INFRASTRUCTURE_REASONS:
            return f"pod {name}: {status.get('reason')}: {status.get('message') or ''}".rstrip(": ")
        for condition in status.get("conditions") or []:
            if condition.get("type") == "DisruptionTarget" and condition.get("status") == "True":
                why = condition.get("reason") or "DisruptionTarget"
                return f"pod {name}: {why}: {condition.get('message') or ''}".rstrip(": ")
    return None
