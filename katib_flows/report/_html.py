"""One self-contained HTML page for an experiment: summary, status, figures and a sortable trial table.

Called by ``katib-flows report`` and ``Result.report()``. plotly.js is inlined once in the page's head,
so the file opens offline and can be mailed or attached to a CI run. The page is rendered by jinja2 in a
sandbox with autoescaping on: trial names, messages and parameter values are data, never markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import yaml

from katib_flows.report._figures import figures
from katib_flows.report._history import History
from katib_flows.spec import format_value, to_search_problem
from katib_flows.spec._architecture import architecture_lines, read_architecture

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: .2rem; } .status { font-size: 1.1rem; margin-bottom: 1.5rem; }
.Succeeded { color: #1a7f37; } .Failed { color: #cf222e; } .Running, .Created { color: #9a6700; }
table { border-collapse: collapse; font-size: .85rem; } td, th { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f6f8fa; cursor: pointer; user-select: none; } th.asc::after { content: " \\25B2"; }
th.desc::after { content: " \\25BC"; } .facts td:first-child { font-weight: 600; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; } .plot { min-width: 0; }
pre { background: #f6f8fa; padding: 1rem; overflow: auto; } .table-wrap { overflow-x: auto; }
</style>
<script type="text/javascript">{{ plotly_js | safe }}</script>
</head><body>
<h1>{{ experiment.namespace }}/{{ experiment.name }}</h1>
<div class="status"><span class="{{ experiment.condition.value }}">{{ experiment.condition.value }}</span>
 ({{ experiment.reason }}) {{ experiment.message }}</div>
<div class="grid"><div><h2>Experiment</h2><table class="facts">
{% for key, value in facts %}<tr><td>{{ key }}</td><td>{{ value }}</td></tr>{% endfor %}
</table></div><div><h2>Search space</h2><table class="facts">
<tr><th>parameter</th><th>type</th><th>feasible space</th></tr>
{% for p in parameters %}<tr><td>{{ p[0] }}</td><td>{{ p[1] }}</td><td>{{ p[2] }}</td></tr>{% endfor %}
</table>{% if best %}<h2>Best trial</h2><table class="facts">
{% for key, value in best %}<tr><td>{{ key }}</td><td>{{ value }}</td></tr>{% endfor %}</table>{% endif %}
</div></div>
{% for key, html in plots %}<div class="plot" id="section-{{ key }}">{{ html | safe }}</div>{% endfor %}
<h2>Trials</h2><div class="table-wrap"><table id="trials">
<thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table></div>
<details><summary>Spec (as stored, with Katib's defaults)</summary><pre>{{ spec_yaml }}</pre></details>
<script>
(function () {
  var table = document.getElementById("trials");
  var headers = table.tHead.rows[0].cells;
  function key(cell) {
    var text = cell.textContent.trim(); var n = parseFloat(text);
    return text !== "" && !isNaN(n) && isFinite(text) ? n : text.toLowerCase();
  }
  Array.prototype.forEach.call(headers, function (th, column) {
    th.addEventListener("click", function () {
      var asc = !th.classList.contains("asc");
      Array.prototype.forEach.call(headers, function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[column]), y = key(b.cells[column]);
        if (typeof x !== typeof y) { x = String(x); y = String(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>
</body></html>
"""


def render_html(history: History) -> str:
    """The whole page as a string."""
    import jinja2.sandbox
    from plotly.offline import get_plotlyjs

    env = jinja2.sandbox.SandboxedEnvironment(autoescape=True)
    plots = [
        (key, fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{key}", config={"displaylogo": False}))
        for key, fig in figures(history).items()
    ]
    rows = history.rows()
    columns = list(rows[0]) if rows else ["trial"]
    record = history.experiment
    return env.from_string(_TEMPLATE).render(
        title=f"katib-flows: {record.namespace}/{record.name}",
        plotly_js=get_plotlyjs(),
        experiment=record,
        facts=_facts(history),
        parameters=_parameters(history),
        best=_best(history),
        plots=plots,
        columns=columns,
        rows=[[_cell(row.get(c)) for c in columns] for row in rows],
        spec_yaml=yaml.safe_dump(record.spec, sort_keys=False, allow_unicode=True),
    )


def write_html(history: History, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(history), encoding="utf-8")
    return path


def _facts(history: History) -> list[tuple[str, Any]]:
    spec = history.spec.spec
    objective = history.objective
    algorithm = (spec.algorithm.algorithm_name if spec.algorithm else None) or "-"
    settings = spec.algorithm.settings() if spec.algorithm else {}
    collector = spec.metrics_collector_spec.collector if spec.metrics_collector_spec else None
    counts: dict[str, int] = {}
    for trial in history.trials:
        counts[trial.status.value] = counts.get(trial.status.value, 0) + 1
    record = history.experiment
    facts: list[tuple[str, Any]] = [
        ("objective", f"{objective.direction} {objective.metric}"),
        ("goal", "-" if history.goal is None else f"{history.goal:g}"),
        ("algorithm", algorithm + (f" ({', '.join(f'{k}={v}' for k, v in settings.items())})" if settings else "")),
        ("early stopping", spec.early_stopping.algorithm_name if spec.early_stopping else "-"),
        ("metrics collector", (collector.kind if collector else None) or "StdOut"),
        ("max trials", spec.max_trial_count if spec.max_trial_count is not None else "-"),
        ("parallel trials", spec.parallel_trial_count),
        ("max failed trials", spec.max_failed_trial_count if spec.max_failed_trial_count is not None else "-"),
        ("trials", ", ".join(f"{n} {s}" for s, n in counts.items()) or "none yet"),
        ("started", _time(record.started_at)),
        ("completed", _time(record.completed_at)),
    ]
    return facts


def _parameters(history: History) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    nas = to_search_problem(history.spec.spec).nas
    if nas is not None:  # the graph, then each operation with its parameters' values
        inputs = "x".join(str(v) for v in nas.input_sizes)
        outputs = "x".join(str(v) for v in nas.output_sizes)
        layers = f"{nas.num_layers} layer{'' if nas.num_layers == 1 else 's'}"
        rows.append(("graph", "nasConfig", f"{layers}, input {inputs}, output {outputs}"))
        for operation in nas.operations:
            space = "; ".join(f"{p.name}: {_space(p)}" for p in operation.parameters)
            rows.append((operation.type, "operation", space))
    for p in history.parameters:
        rows.append((p.name, p.type, _space(p)))
    return rows


def _space(p: sg.Parameter) -> str:
    """A parameter's feasible space in words: its list, or its range with step and distribution."""
    if p.values:
        return ", ".join(p.values)
    space = f"[{p.min:g}, {p.max:g}]" if p.min is not None and p.max is not None else "-"
    if p.step:
        space += f" step {p.step:g}"
    if p.distribution != "uniform":
        space += f" {p.distribution}"
    return space


def _best(history: History) -> list[tuple[str, Any]]:
    best = history.best_trial()
    if best is None:
        return []
    rows: list[tuple[str, Any]] = [("trial", best.name), (history.objective.metric, best.objective_value)]
    layers = read_architecture(best.assignments)
    if layers is not None:  # a NAS trial: its layers in words, not its JSON
        lines = architecture_lines(layers)
        return rows + [
            (f"layer {layer.number}", line.split(": ", 1)[1]) for layer, line in zip(layers, lines, strict=True)
        ]
    rows += [(name, format_value(value)) for name, value in best.assignments.items()]
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return format_value(value)


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"
