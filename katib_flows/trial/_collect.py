"""Collecting one trial's metrics while it runs, per the experiment's metrics collector.

Used by both trial runners: ``line()`` for every output line (a local process's output, or a pod's log:
StdOut parsing, the kept log), a background poll for the collectors that read a file on this machine
(File, TensorFlowEvent, Push), and ``finish()`` once the workload has ended (``close()`` when it never
started). Parsing is the collector package's (the same code a cluster trial uses); this module only wires
it to the store, flushing rows in small batches so metrics are visible, and early stopping can act,
while the trial runs. While the store is unreachable the rows stay in memory and the trial runs on; they
are written by a later flush or with the trial's outcome. The user's command is never rewritten.

Push channel (``kind: Push``, ``katib_flows.report_metrics``): each trial gets its own file named by
``KATIB_FLOWS_METRICS_FILE``; ``report_metrics`` appends one JSON line per call and this module tails it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import katib_flows_collector as kc

from katib_flows.engine import record_observation
from katib_flows.errors import StoreUnavailableError
from katib_flows.spec import Experiment
from katib_flows.store import MetricLog, Store

_POLL_SECONDS = 0.5
_FLUSH_SECONDS = 0.5
_FLUSH_ROWS = 200


class Collection:
    """The metric collection of one running trial."""

    def __init__(
        self,
        experiment: Experiment,
        store: Store,
        namespace: str,
        trial: str,
        log_path: Path | None,
        *,
        pod_log: bool = False,
        skip_rows: int = 0,
    ):
        """``pod_log``: every metric comes from the lines of a pod's log (the Kubernetes runner): StdOut
        text, or else push envelopes, which ``report_metrics`` prints there when no file is set and the
        collector sidecar of a File or TensorFlowEvent experiment prints (``kube._pod``). ``skip_rows``: this many rows
        were stored by an earlier attempt that read the same output (a retried step), so they are not
        stored twice; they still count for the learning curve."""
        self.store, self.namespace, self.trial = store, namespace, trial
        self._skip = skip_rows
        objective = experiment.spec.objective
        assert objective is not None and objective.objective_metric_name
        self.metrics = objective.collected_metrics()  # the objectives (all of them), then additional metrics
        mc = experiment.spec.metrics_collector_spec
        self.kind = (mc.collector.kind if mc and mc.collector else None) or "StdOut"
        source = mc.source if mc else None
        filters = source.filter.metrics_format if source and source.filter else None
        fsp = source.file_system_path if source else None
        self._pending: list[MetricLog] = []
        #: The objective's learning curve so far (step counted from 1 -> value), for early stopping.
        self.curve: dict[int, float] = {}
        #: Called with ``curve`` after each new report of the objective (set by the runner when early stopping).
        self.on_report: Callable[[dict[int, float]], None] | None = None
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._text: kc.TextParser | kc.PushParser | None = None
        if self.kind == "StdOut":
            self._text = kc.TextParser(self.metrics, filters)
        self._source: kc.FileSource | kc.EventSource | None = None  # what the poller follows
        self._push_dir: tempfile.TemporaryDirectory[str] | None = None
        if pod_log and self.kind != "StdOut":  # envelopes of report_metrics, or of the File/TFEvent sidecar
            self._text = kc.PushParser(self.metrics, require_marker=True)
        elif self.kind == "File" and fsp is not None and fsp.path:
            parser = kc.JsonLinesParser(self.metrics) if fsp.format == "JSON" else kc.TextParser(self.metrics, filters)
            self._source = kc.FileSource(_fresh(Path(fsp.path)), parser.feed, self._skipped)
        elif self.kind == "TensorFlowEvent" and fsp is not None and fsp.path:
            self._source = kc.EventSource(fsp.path, self.metrics, self._skipped)
        elif self.kind in ("Push", "None"):
            self._push_dir = tempfile.TemporaryDirectory(prefix="katib-flows-push-")
            push_file = _fresh(Path(self._push_dir.name) / "metrics.jsonl")
            self._source = kc.FileSource(push_file, kc.PushParser(self.metrics).feed, self._skipped)
        self._log: IO[str] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_path.open("w", encoding="utf-8")
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        if self._source is not None:
            self._poller = threading.Thread(target=self._poll_loop, name=f"collect-{trial}", daemon=True)
            self._poller.start()

    def env(self) -> dict[str, str]:
        """What the trial process needs to know: its name (as Katib sets it) and the push channel."""
        env = {kc.TRIAL_NAME_ENV: self.trial}
        if self._push_dir is not None and isinstance(self._source, kc.FileSource):
            env[kc.METRICS_FILE_ENV] = self._source.path
        return env

    def line(self, line: str) -> None:
        if self._log is not None:
            self._log.write(line + "\n")
            self._log.flush()
        if self._text is not None:
            try:
                self._add(self._text.feed(line))
            except kc.CollectorError as exc:  # a malformed push envelope in a pod log: said, and skipped
                self._skipped(str(exc))

    def finish(self) -> list[MetricLog]:
        """After the process ended: read what is left and release files; returns the rows not yet stored,
        for the caller to store with the trial's outcome in one transaction."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join()
        if self._source is not None:
            self._add(self._source.read(final=True))
        self.close()
        with self._lock:
            rows, self._pending = self._pending, []
        return rows

    def close(self) -> None:
        """Release files and end the poller, without reading more (``finish`` reads first)."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._push_dir is not None:
            self._push_dir.cleanup()
            self._push_dir = None

    def _poll_loop(self) -> None:
        assert self._source is not None
        while not self._stop.wait(_POLL_SECONDS):
            self._add(self._source.read())
            self._flush_if_due()

    def _skipped(self, problem: str) -> None:
        """A line, event or file the collectors skipped: said in the trial's log."""
        if self._log is not None:
            self._log.write(f"katib-flows: metrics collection skipped: {problem}\n")

    def _add(self, metrics: list[kc.Metric]) -> None:
        if not metrics:
            return
        now = dt.datetime.now(dt.timezone.utc)
        rows = [MetricLog(m.name, m.value, m.timestamp or now, m.step) for m in metrics if m.name in self.metrics]
        reported = False
        with self._lock:
            skipped = min(self._skip, len(rows))
            self._skip -= skipped
            self._pending.extend(rows[skipped:])
            for row in rows:
                if row.metric == self.metrics[0] and (number := row.number) is not None:
                    step = row.step if row.step is not None else len(self.curve)
                    self.curve[step + 1] = number
                    reported = True
        self._flush_if_due()
        if reported and self.on_report is not None:
            self.on_report(dict(self.curve))

    def _flush_if_due(self) -> None:
        if len(self._pending) >= _FLUSH_ROWS or time.monotonic() - self._last_flush >= _FLUSH_SECONDS:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            rows, self._pending = self._pending, []
            self._last_flush = time.monotonic()
        if not rows:
            return
        try:
            record_observation(self.store, self.namespace, self.trial, rows, wait=False)
        except StoreUnavailableError:
            # The store is down: keep the rows (in order, before any newer ones) and let the trial run on;
            # the next flush or the trial's outcome writes them once the store is back.
            with self._lock:
                self._pending[:0] = rows


def _fresh(path: Path) -> str:
    """An empty file per trial, as Katib's per-pod emptyDir is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return str(path)
