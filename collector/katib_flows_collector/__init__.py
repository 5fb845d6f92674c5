"""Metric collection for katib-flows trials, standard library only.

Two audiences. Training code calls :func:`report_metrics` (Katib's ``kind: Push``). The runners in the
main ``katib_flows`` package parse what trials write: text output with Katib's regex filters
(:class:`TextParser`), JSON lines files (:class:`JsonLinesParser`), TensorFlow event files
(:class:`TFEventReader`) and ``report_metrics`` envelopes (:class:`PushParser`), each streaming, so metrics
are seen while the trial runs, and each returning :class:`Metric` records; :class:`FileSource` and
:class:`EventSource` follow a file or an event directory as it grows (the local runner, and the File and
TensorFlowEvent sidecar on Kubernetes, ``python -m katib_flows_collector watch``). Users ``pip install`` this
package into their trial images, so it imports nothing outside the standard library (a test checks).
"""

from katib_flows_collector._errors import CollectorError, EventFileError, FilterError, MetricsFormatError
from katib_flows_collector._follow import EventSource, FileSource
from katib_flows_collector._goregex import DEFAULT_FILTER, compile_filters
from katib_flows_collector._jsonlines import JsonLinesParser, parse_json_lines
from katib_flows_collector._lines import LineSplitter
from katib_flows_collector._metric import UNAVAILABLE, Metric, apply_unavailable_fallback
from katib_flows_collector._push import (
    METRICS_FILE_ENV,
    PUSH_MARKER,
    TRIAL_NAME_ENV,
    PushParser,
    parse_push_line,
    parse_push_lines,
    report_metrics,
)
from katib_flows_collector._steps import DEFAULT_STEP_NAMES
from katib_flows_collector._text import TextParser, parse_text
from katib_flows_collector._tfevents import EVENT_FILE_PREFIX, TFEventReader, read_tf_events

__all__ = [
    "DEFAULT_FILTER",
    "DEFAULT_STEP_NAMES",
    "EVENT_FILE_PREFIX",
    "METRICS_FILE_ENV",
    "PUSH_MARKER",
    "TRIAL_NAME_ENV",
    "UNAVAILABLE",
    "CollectorError",
    "EventFileError",
    "EventSource",
    "FileSource",
    "FilterError",
    "JsonLinesParser",
    "LineSplitter",
    "Metric",
    "MetricsFormatError",
    "PushParser",
    "TFEventReader",
    "TextParser",
    "apply_unavailable_fallback",
    "compile_filters",
    "parse_json_lines",
    "parse_push_line",
    "parse_push_lines",
    "parse_text",
    "read_tf_events",
    "report_metrics",
]
