"""Rules for ``spec.metricsCollectorSpec``: the collector kind, its source, and filters compiled as the
collector will compile them.

Called by ``check`` in ``__init__.py``.
"""

from __future__ import annotations

from katib_flows_collector import FilterError, compile_filters

from katib_flows.spec._models import MetricsCollectorSpec
from katib_flows.spec._problems import Problem
from katib_flows.spec._rules._choices import bad_choice

COLLECTOR_KINDS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "Push", "None")


def check_collector(mc: MetricsCollectorSpec | None) -> list[Problem]:
    if mc is None or mc.collector is None:
        return []
    kind = mc.collector.kind
    path = "spec.metricsCollectorSpec"
    if kind not in COLLECTOR_KINDS:
        return [bad_choice(f"{path}.collector.kind", kind, COLLECTOR_KINDS, "collector-kind")]
    problems: list[Problem] = []
    source = mc.source
    fsp = source.file_system_path if source else None
    fsp_path = f"{path}.source.fileSystemPath"
    if kind in ("File", "TensorFlowEvent") or (kind == "Custom" and fsp is not None):
        assert fsp is not None or kind == "Custom"
        wanted = {"File": ("File",), "TensorFlowEvent": ("Directory",)}.get(kind or "", ("File", "Directory"))
        if fsp is not None and fsp.kind not in wanted:
            problems.append(bad_choice(f"{fsp_path}.kind", fsp.kind, wanted, "file-system-kind"))
        if fsp is not None and not (fsp.path or "").startswith("/"):
            problems.append(
                Problem(
                    f"{fsp_path}.path",
                    "must be an absolute path",
                    "write a path starting with /",
                    value=fsp.path,
                    rule="absolute-path",
                )
            )
    if kind == "File" and fsp is not None:
        if fsp.format not in ("TEXT", "JSON"):
            problems.append(bad_choice(f"{fsp_path}.format", fsp.format, ("TEXT", "JSON"), "file-format"))
        if fsp.format == "JSON" and source is not None and source.filter is not None:
            problems.append(
                Problem(
                    f"{path}.source.filter",
                    "must be left out when the metrics file is JSON",
                    "remove the filter",
                    rule="json-no-filter",
                )
            )
    if kind == "TensorFlowEvent" and fsp is not None and fsp.format:
        problems.append(
            Problem(
                f"{fsp_path}.format",
                "must be left out for TensorFlowEvent",
                "remove it",
                value=fsp.format,
                rule="tfevent-no-format",
            )
        )
    if kind == "Custom" and not mc.collector.custom_collector:
        problems.append(
            Problem(
                f"{path}.collector.customCollector",
                "is required for kind Custom",
                "give the collector container",
                rule="required",
            )
        )
    if kind in ("Custom", "PrometheusMetric"):
        problems.append(
            Problem(
                f"{path}.collector.kind",
                f"{kind} collectors are accepted but katib-flows does not "
                "run them; trials will end MetricsUnavailable unless they report with Push",
                "use StdOut, File, TensorFlowEvent or Push",
                value=kind,
                rule="collector-not-run",
                severity="warning",
            )
        )
    if kind == "PrometheusMetric" and source is not None and source.http_get is not None:
        problems += _check_http_get(source.http_get, f"{path}.source.httpGet")
    if source is not None and source.filter is not None:
        for i, pattern in enumerate(source.filter.metrics_format or []):
            problems += _check_filter(pattern, f"{path}.source.filter.metricsFormat[{i}]")
    return problems


def _check_http_get(http_get: dict[str, object], path: str) -> list[Problem]:
    problems = []
    port = http_get.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or port <= 0:
        problems.append(Problem(f"{path}.port", "must be a positive integer", "e.g. 8080", value=port, rule="port"))
    if not str(http_get.get("path", "")).startswith("/"):
        problems.append(
            Problem(
                f"{path}.path",
                "must start with /",
                "e.g. /metrics",
                value=http_get.get("path"),
                rule="http-path",
            )
        )
    return problems


def _check_filter(pattern: str, path: str) -> list[Problem]:
    """Compiled as the collector will compile it (Go syntax), so lint and collection agree."""
    try:
        compile_filters([pattern])
    except FilterError as exc:
        rule = "filter-groups" if "capturing groups" in str(exc) else "filter-regex"
        return [Problem(path, str(exc), r"e.g. ([\w|-]+)\s*=\s*(\S+)", value=pattern, rule=rule)]
    return []
