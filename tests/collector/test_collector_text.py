"""Text metrics (StdOut, File TEXT): Katib's default filter, user filters, timestamps, steps, streaming."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from katib_flows_collector import (
    DEFAULT_FILTER,
    UNAVAILABLE,
    FilterError,
    LineSplitter,
    Metric,
    TextParser,
    apply_unavailable_fallback,
    compile_filters,
    parse_text,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "katib-examples"
KATIB_JSON_LIKE = r"{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}"
UTC = timezone.utc


def values(metrics: list[Metric]) -> list[tuple[str, str]]:
    return [(m.name, m.value) for m in metrics]


def test_default_filter_is_katibs_exactly() -> None:
    assert DEFAULT_FILTER == r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"


@pytest.mark.parametrize(
    ("line", "names", "expected"),
    [
        ("accuracy=.98", ["accuracy"], [("accuracy", ".98")]),
        ("loss=-7.53e-05", ["loss"], [("loss", "-7.53e-05")]),
        ("lr=1E0", ["lr"], [("lr", "1E0")]),
        ("gain=+2.5e+3", ["gain"], [("gain", "+2.5e+3")]),
        ("accuracy=0.9 loss = 0.1", ["accuracy", "loss"], [("accuracy", "0.9"), ("loss", "0.1")]),
        ("accuracy\t=\t0.5", ["accuracy"], [("accuracy", "0.5")]),
        ("val|acc=0.7 val-loss=0.25", ["val|acc", "val-loss"], [("val|acc", "0.7"), ("val-loss", "0.25")]),
        ("Epoch 3: accuracy=0.91, loss=0.2", ["accuracy", "loss"], [("accuracy", "0.91"), ("loss", "0.2")]),
        ("accuracy=1 accuracy=2", ["accuracy"], [("accuracy", "1"), ("accuracy", "2")]),
        # Names are compared whole: val_accuracy is not accuracy, though the line contains "accuracy".
        ("val_accuracy=0.3 accuracy=0.5", ["accuracy"], [("accuracy", "0.5")]),
        ("val_accuracy=0.3", ["accuracy"], []),
        # The empty value the default filter matches in "loss=nan" is dropped (Katib stores "").
        ("loss=nan accuracy=0.5", ["loss", "accuracy"], [("accuracy", "0.5")]),
        ("no metrics here", ["accuracy"], []),
    ],
)
def test_default_filter(line: str, names: list[str], expected: list[tuple[str, str]]) -> None:
    assert values(parse_text(line, names)) == expected


def test_a_step_alone_on_a_line_without_wanted_metrics_is_skipped() -> None:
    got = parse_text("epoch=5\naccuracy=0.5", ["accuracy"])
    assert [(m.value, m.step) for m in got] == [("0.5", 0)]


def test_user_filters_replace_the_default() -> None:
    line = "accuracy=0.5 {metricName: loss, metricValue: 0.25}"
    assert values(parse_text(line, ["accuracy", "loss"], [KATIB_JSON_LIKE])) == [("loss", "0.25")]


def test_several_filters_apply_in_order() -> None:
    line = "accuracy=0.5 {metricName: loss, metricValue: 0.25}"
    got = parse_text(line, ["accuracy", "loss"], [KATIB_JSON_LIKE, r"(\w+)=(\S+)"])
    assert values(got) == [("loss", "0.25"), ("accuracy", "0.5")]


def test_katibs_text_test_case() -> None:
    """Katib's file-metricscollector_test.go, "Positive case for logs in TEXT format"."""
    log = (
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: 0.8078};"
        "{metricName: loss, metricValue: 0.5183}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: 0.6752}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: loss, metricValue: 0.3634}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: 100}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: 888.333}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: -0.4759}\n"
        "{metricName: loss, metricValue: 0.8671}"
    )
    got = parse_text(log, ["accuracy", "loss"], [KATIB_JSON_LIKE])
    stamp = datetime(2024, 3, 4, 17, 55, 8, tzinfo=UTC)
    assert got == [
        Metric("accuracy", "0.8078", stamp, 0),
        Metric("loss", "0.5183", stamp, 0),
        Metric("accuracy", "0.6752", stamp, 1),
        Metric("loss", "0.3634", stamp, 1),
        Metric("accuracy", "100", stamp, 2),
        Metric("accuracy", "888.333", stamp, 3),
        Metric("accuracy", "-0.4759", stamp, 4),
        Metric("loss", "0.8671", None, 2),
    ]


def test_katibs_invalid_values_give_unavailable() -> None:
    """Katib's "Invalid case for logs in TEXT format": no value matches the filter."""
    log = (
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: .333}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: -.333}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: - 345.333}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: 888.}\n"
        "2024-03-04T17:55:08Z INFO     {metricName: accuracy, metricValue: 0.6752\n"
    )
    got = parse_text(log, ["accuracy", "loss"], [KATIB_JSON_LIKE])
    assert got == []
    assert apply_unavailable_fallback(got, "accuracy") == [Metric("accuracy", UNAVAILABLE)]


def test_unavailable_fallback_keeps_metrics_when_the_objective_is_there() -> None:
    metrics = parse_text("loss=1\naccuracy=2", ["accuracy", "loss"])
    assert apply_unavailable_fallback(metrics, "accuracy") == metrics
    assert apply_unavailable_fallback(parse_text("loss=1", ["accuracy", "loss"]), "accuracy") == [
        Metric("accuracy", "unavailable", None, None)
    ]


def example_filters() -> list[str]:
    found: set[str] = set()
    for path in EXAMPLES.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            source = ((doc or {}).get("spec", {}).get("metricsCollectorSpec") or {}).get("source") or {}
            found.update((source.get("filter") or {}).get("metricsFormat") or [])
    return sorted(found)


def test_every_filter_in_katibs_examples_compiles() -> None:
    filters = example_filters()
    assert KATIB_JSON_LIKE in filters, f"Katib's examples under {EXAMPLES} changed"
    assert len(compile_filters(filters)) == len(filters)


@pytest.mark.parametrize(
    ("pattern", "names", "line", "expected"),
    [
        (
            r"([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)",
            ["Validation-accuracy"],
            "INFO Epoch[2] Validation-accuracy=0.978125",
            [("Validation-accuracy", "0.978125")],
        ),
        (KATIB_JSON_LIKE, ["accuracy"], "{metricName: accuracy, metricValue: -12.5}", [("accuracy", "-12.5")]),
        (
            r"([\w-]+)=(Genotype.*)",
            ["Best-Genotype"],
            "Best-Genotype=Genotype(normal=[[('sep_conv_3x3', 0)]], normal_concat=range(2, 6))",
            [("Best-Genotype", "Genotype(normal=[[('sep_conv_3x3', 0)]], normal_concat=range(2, 6))")],
        ),
        (
            r"(\w+\s\w+)\s:\s((-?\d+)(\.\d+)?)",
            ["valid_1 auc", "valid_1 binary_logloss"],
            "Iteration 4: valid_1 auc : 0.701, valid_1 binary_logloss : 0.25",
            [("valid_1 auc", "0.701"), ("valid_1 binary_logloss", "0.25")],
        ),
    ],
)
def test_filters_from_katibs_examples(
    pattern: str, names: list[str], line: str, expected: list[tuple[str, str]]
) -> None:
    assert values(parse_text(line, names, [pattern])) == expected


@pytest.mark.parametrize(
    ("pattern", "line", "expected"),
    [
        (r"(?<name>[[:alpha:]]+)=([[:digit:]]+)", "acc=12", [("acc", "12")]),
        (r"\Qloss[0]\E(.*)=(\d+)", "loss[0]x=3", [("x", "3")]),
        (r"(\x{61}cc)=(\d+)\z", "acc=5", [("acc", "5")]),
        (r"(acc)=(\d+)\z", "acc=5 trailing", []),
        (r"([]\w]+)=([[\d])", "acc]=5", [("acc]", "5")]),
    ],
)
def test_go_only_syntax_is_translated(pattern: str, line: str, expected: list[tuple[str, str]]) -> None:
    names = sorted({name for name, _ in expected} | {"acc"})
    assert values(parse_text(line, names, [pattern])) == expected


def test_shorthand_classes_are_ascii_as_in_go() -> None:
    assert values(parse_text("accuracy=٣", ["accuracy"], [r"(\w+)=(\d+)"])) == []
    assert values(parse_text("ácc=3", ["ácc"], [r"(\w+)=(\d+)"])) == []
    assert values(parse_text("ácc=3", ["ácc"], [r"(\S+)=(\d+)"])) == [("ácc", "3")]


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(\w+)=", "needs two capturing groups (name, then value), found 1"),
        (r"(?:\w+)=(\d+)", "found 1"),
        (r"(\w+)=(\d+", "does not compile"),
        (r"(\p{Greek}+)=(\d+)", "does not compile"),
        (r"([[:^alpha:]]+)=(\d+)", "unsupported POSIX class [:^alpha:]"),
        (r"([[:nope:]]+)=(\d+)", "unsupported POSIX class [:nope:]"),
    ],
)
def test_bad_filters_are_named_in_the_error(pattern: str, problem: str) -> None:
    with pytest.raises(FilterError, match=re.escape(problem)) as caught:
        TextParser(["accuracy"], ["([\\w|-]+)=(\\d+)", pattern])
    assert repr(pattern) in str(caught.value)
    assert caught.value.pattern == pattern


def test_python_set_warnings_do_not_escape() -> None:
    # "[[" and "--" in a class are literals in Go; Python compiles them with a FutureWarning (an error here).
    assert values(parse_text("a[b=1", ["a[b"], [r"([\w[]+)=([--9]+)"])) == [("a[b", "1")]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("2024-03-04T17:55:08Z", datetime(2024, 3, 4, 17, 55, 8, tzinfo=UTC)),
        ("2024-03-04T17:55:08.123456789Z", datetime(2024, 3, 4, 17, 55, 8, 123456, tzinfo=UTC)),
        ("2024-03-04T17:55:08.5+02:00", datetime(2024, 3, 4, 15, 55, 8, 500000, tzinfo=UTC)),
        ("2024-03-04T17:55:08-01:30", datetime(2024, 3, 4, 19, 25, 8, tzinfo=UTC)),
        ("2024-03-04 17:55:08Z", None),
        ("2024-02-30T00:00:00Z", None),
        ("2024-03-04T17:55:08", None),
        ("INFO", None),
    ],
)
def test_leading_rfc3339_timestamp(token: str, expected: datetime | None) -> None:
    [metric] = parse_text(f"{token} accuracy=0.5", ["accuracy"])
    assert metric.timestamp == expected
    if expected is not None:
        assert metric.timestamp is not None
        assert metric.timestamp.utcoffset() == timedelta(0)


def test_timestamp_must_be_the_first_token() -> None:
    [metric] = parse_text("INFO 2024-03-04T17:55:08Z accuracy=0.5", ["accuracy"])
    assert metric.timestamp is None


def test_steps_count_reports_per_metric() -> None:
    got = parse_text("accuracy=1\nloss=5\naccuracy=2 loss=4\naccuracy=3", ["accuracy", "loss"])
    assert [(m.name, m.step) for m in got] == [
        ("accuracy", 0),
        ("loss", 0),
        ("accuracy", 1),
        ("loss", 1),
        ("accuracy", 2),
    ]


@pytest.mark.parametrize(
    ("line", "step"),
    [
        ("epoch=7 accuracy=0.5", 7),
        ("accuracy=0.5 step=12", 12),
        ("global_step=40 accuracy=0.5", 40),
        ("epoch=7 step=70 accuracy=0.5", 70),  # step before global_step before epoch
        ("epoch=7.0 accuracy=0.5", 7),
        ("epoch=-1 accuracy=0.5", 0),  # not a non-negative integer: counted
        ("step=1.5 epoch=3 accuracy=0.5", 0),  # the first step name present decides, even if unusable
        ("epochs=7 accuracy=0.5", 0),
    ],
)
def test_explicit_step_on_the_line(line: str, step: int) -> None:
    [metric] = parse_text(line, ["accuracy"])
    assert metric.step == step


def test_explicit_steps_do_not_shift_the_counter() -> None:
    got = parse_text("accuracy=1\nepoch=10 accuracy=2\naccuracy=3", ["accuracy"])
    assert [m.step for m in got] == [0, 10, 2]


def test_step_names_are_configurable_and_can_be_metrics() -> None:
    got = parse_text("iter=5 epoch=2 accuracy=0.5", ["accuracy", "epoch"], step_names=["iter"])
    assert [(m.name, m.value, m.step) for m in got] == [("epoch", "2", 5), ("accuracy", "0.5", 5)]
    assert [m.step for m in parse_text("epoch=9 accuracy=0.5", ["accuracy"], step_names=())] == [0]


def test_streaming_feed_gives_each_lines_metrics_as_it_comes() -> None:
    parser = TextParser(["accuracy", "loss"])
    assert parser.feed("starting\n") == []
    assert values(parser.feed("accuracy=0.1 loss=2\n")) == [("accuracy", "0.1"), ("loss", "2")]
    assert [(m.name, m.step) for m in parser.feed("accuracy=0.2\r\n")] == [("accuracy", 1)]


def test_streaming_over_partial_chunks_matches_parsing_at_once() -> None:
    log = "2024-03-04T17:55:08Z epoch=1 accuracy=0.5 loss=1\nnoise\naccuracy=0.75\r\nloss = 0.25 accuracy=.9"
    data = log.encode()
    for size in (1, 2, 3, 7, 64):
        parser, splitter, got = TextParser(["accuracy", "loss"]), LineSplitter(), []
        for start in range(0, len(data), size):
            for line in splitter.push(data[start : start + size]):
                got += parser.feed(line)
        for line in splitter.flush():
            got += parser.feed(line)
        assert got == parse_text(log, ["accuracy", "loss"]), size


def test_line_splitter_keeps_multibyte_characters_cut_across_chunks() -> None:
    splitter = LineSplitter()
    data = "précision=0.5\nµ=1".encode()
    cut = data.index(b"\xc3") + 1  # inside "é"
    assert splitter.push(data[:cut]) == []
    assert splitter.push(data[cut:]) == ["précision=0.5"]
    assert splitter.flush() == ["µ=1"]
    assert splitter.flush() == []


def test_line_splitter_text_chunks_and_type_mixing() -> None:
    splitter = LineSplitter()
    assert splitter.push("a=1\nb=") == ["a=1"]
    assert splitter.push("2\n\n") == ["b=2", ""]
    with pytest.raises(TypeError, match="bytes after str"):
        splitter.push(b"c=3")


@pytest.mark.parametrize("names", [[], [""], "accuracy"])
def test_metric_names_are_checked(names: object) -> None:
    with pytest.raises((ValueError, TypeError), match="metric_names"):
        TextParser(names)  # type: ignore[arg-type]


def test_metric_requires_an_aware_timestamp() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Metric("accuracy", "1", datetime(2024, 1, 1), 0)
