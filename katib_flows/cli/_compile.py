"""``katib-flows compile``: Experiment files -> Argo Workflows, one file or a whole GitOps folder.

A pipeline: load the Experiment (``_common.load``, the loader of ``lint`` and ``run``), prepare it with the
command line's name and namespace (``spec.prepare``), build and validate the Workflow
(``katib_flows.build.build_workflow``, which the DSL uses too: unknown fields always, Argo's JSON schema
with ``--validate-schema``; hera is imported inside it), write it. The step options are generated from
``argo.StepOptions`` (``_options.click_options``). ``--all DIR`` compiles every Experiment in DIR into
``DIR/compiled/``; ``--check`` compares instead of writing and fails listing every stale file, for CI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from katib_flows.argo._options import StepOptions
from katib_flows.build import BuildOptions
from katib_flows.cli import _airflow, _exit
from katib_flows.cli._common import load, prepare_file
from katib_flows.cli._options import click_options, from_values
from katib_flows.cli._output import output_options, write
from katib_flows.errors import CompileError, SpecError

if TYPE_CHECKING:
    from katib_flows.spec import Experiment

COMPILED_DIR = "compiled"
_MANAGED_MARK = '"katib-flows"'  # every compiled file carries app.kubernetes.io/managed-by: "katib-flows"


@dataclass(frozen=True)
class _Settings:
    fmt: str
    namespace: str | None
    build: BuildOptions


#: How the steps run (``compile`` and ``submit``): one option per documented field of ``StepOptions``.
step_options = click_options(StepOptions)


def airflow_compile_options(fn: Any) -> Any:
    for option in reversed(_airflow.airflow_compile_options):
        fn = option(fn)
    return fn


engine_option = click.option(
    "--engine",
    type=click.Choice(["argo", "airflow"]),
    default="argo",
    show_default=True,
    help="argo: an Argo Workflow; airflow: an Airflow DAG file (katib_flows.airflow).",
)


@click.command("compile")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@engine_option
@click.option(
    "--all",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Compile every Experiment in DIR into DIR/compiled/.",
)
@click.option("--check", is_flag=True, help="With --all: write nothing, fail if DIR/compiled/ is stale.")
@click.option("--name", help="Experiment (and Workflow) name; default: metadata.name, else the file's name.")
@click.option("--namespace", "-n", help="metadata.namespace of the Workflow; default: the Experiment's, else none.")
@step_options
@airflow_compile_options
@click.option("--generate-name", is_flag=True, help="Write generateName: NAME- so the file can be submitted again.")
@output_options(("yaml", "json"), default="yaml", help="The Workflow's format.", out_help="Write here, not stdout.")
@click.option(
    "--validate-schema",
    "schema",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Also validate against Argo's JSON schema file (api/jsonschema/schema.json).",
)
def compile_command(
    file: Path | None,
    engine: str,
    folder: Path | None,
    check: bool,
    name: str | None,
    namespace: str | None,
    generate_name: bool,
    output: str,
    out: Path | None,
    schema: Path | None,
    **step: Any,
) -> None:
    """Compile a Katib Experiment into an Argo Workflow (YAML or JSON) or an Airflow DAG, or a folder of them."""
    airflow = {key: step.pop(key) for key in ("dag_id", "db_variable", "workdir", "executor")}
    airflow.update(namespace=namespace, trial_runner=step["trial_runner"])
    build = BuildOptions(from_values(StepOptions, step), generate_name=generate_name, schema=schema)
    settings = _Settings(output, namespace, build)
    if folder is not None:
        if file is not None or out is not None or name is not None:
            raise click.UsageError("--all DIR takes no FILE, --out or --name: each file is named after itself")
        if engine == "airflow":
            _airflow.compile_folder(folder, airflow, check=check)
        else:
            _compile_folder(folder, settings, check=check)
        return
    if file is None:
        raise click.UsageError("give an Experiment FILE, or --all DIR")
    if check:
        raise click.UsageError("--check works with --all DIR")
    if engine == "airflow":
        _airflow.compile_file(file, out, airflow, name=name)
        return
    write(_compile_file(file, settings, name=name), out)


def _compile_file(file: Path, settings: _Settings, *, name: str | None) -> str:
    return _compile_document(load(file), file, settings, name=name)


def _compile_document(loaded: Experiment, file: Path, settings: _Settings, *, name: str | None) -> str:
    """Compile one loaded Experiment into text; the name is ``name``, else metadata.name, else the file's."""
    from katib_flows import argo

    experiment = prepare_file(loaded, file, name=name, namespace=settings.namespace)
    workflow = compiled_workflow(experiment, settings, source=str(file))
    return argo.to_json(workflow) if settings.fmt == "json" else argo.to_yaml(workflow)


def compiled_workflow(experiment: Experiment, settings: _Settings, *, source: str) -> dict[str, Any]:
    """The checked Workflow of one prepared Experiment, as a dict: what ``compile`` prints and ``submit`` sends."""
    from katib_flows.build import build_workflow

    template = experiment.spec.trial_template
    if template is not None and template.command is not None:
        click.echo(
            f"{source}: note: trialTemplate.command runs only where the step runs trials locally; on a cluster "
            "write the trial as a Job (trialTemplate.trialSpec)",
            err=True,
        )
    claim = (settings.build.step or StepOptions()).checkpoints_claim
    if experiment.checkpoint_path is not None:
        click.echo(
            f"{source}: note: trials keep PBT checkpoints on PersistentVolumeClaim {claim} "
            "(ReadWriteMany) in the Workflow's namespace; the tenant overlay of manifests/ creates it",
            err=True,
        )
    return build_workflow(experiment, settings.build)


def _compile_folder(folder: Path, settings: _Settings, *, check: bool) -> None:
    """Compile every Experiment file of ``folder`` (not below it) into ``folder/compiled/``."""
    target = folder / COMPILED_DIR
    suffix = ".json" if settings.fmt == "json" else ".yaml"
    expected = render_folder(
        folder,
        lambda experiment, path: (
            target / f"{path.stem}{suffix}",
            _compile_document(experiment, path, settings, name=None),
        ),
    )
    existing = (
        {p for p in target.glob("*") if p.suffix in (".yaml", ".json") and _ours(p)} if target.is_dir() else set()
    )
    sync_folder(folder, target, expected, existing, check=check, command=f"katib-flows compile --all {folder}")


def render_folder(folder: Path, render: Callable[[Experiment, Path], tuple[Path, str]]) -> dict[Path, str]:
    """``render`` of every Experiment file in ``folder`` (not below it): {where to write: text}; a
    ``SpecError`` lists every file that does not load, check or compile."""
    from katib_flows.spec import check_file

    if not folder.is_dir():
        raise click.UsageError(f"{folder} is not a folder")
    expected: dict[Path, str] = {}
    failures: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml")):
        if _not_an_experiment(path):
            click.echo(f"skipped {path}: not an Experiment", err=True)
            continue
        results = check_file(path)
        if len(results) != 1 or not results[0].ok or results[0].experiment is None:
            problems = [p.format() for c in results for p in c.problems if p.is_error]
            failures.append("\n".join(problems) or f"{path}: one Experiment per file is expected")
            continue
        try:
            written, text = render(results[0].experiment, path)
        except (SpecError, CompileError) as exc:
            failures.append(str(exc))
            continue
        expected[written] = text
    if failures:
        raise SpecError("\n".join(failures))
    return expected


def sync_folder(
    folder: Path, target: Path, expected: dict[Path, str], existing: set[Path], *, check: bool, command: str
) -> None:
    """Write ``expected`` into ``target`` and remove ``existing`` files no Experiment makes any more; with
    ``check``, write nothing and fail listing what is stale, missing or orphaned (``command`` mends it)."""
    stale = sorted(p for p, text in expected.items() if not p.is_file() or p.read_text(encoding="utf-8") != text)
    orphans = sorted(existing - set(expected))
    if check:
        for path in stale:
            click.echo(f"stale: {path}" if path.is_file() else f"missing: {path}", err=True)
        for path in orphans:
            click.echo(f"orphan: {path} (its Experiment is gone)", err=True)
        if stale or orphans:
            click.echo(f"{folder}: compiled output is out of date; run `{command}`", err=True)
            raise SystemExit(_exit.BAD_INPUT)
        click.echo(f"{folder}: {len(expected)} compiled files are up to date", err=True)
        return
    target.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(expected[path], encoding="utf-8")
        click.echo(f"wrote {path}", err=True)
    for path in orphans:
        path.unlink()
        click.echo(f"removed {path} (its Experiment is gone)", err=True)
    click.echo(f"{folder}: {len(expected)} compiled, {len(stale)} changed, {len(orphans)} removed", err=True)


def _not_an_experiment(path: Path) -> bool:
    """A YAML file of something else (a ConfigMap, a kustomization) that may sit beside Experiments."""
    import yaml

    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return False
    return bool(documents) and all(
        isinstance(d, dict) and "kind" in d and d.get("kind") != "Experiment" for d in documents
    )  # fmt: skip


def _ours(path: Path) -> bool:
    try:
        return _MANAGED_MARK in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
