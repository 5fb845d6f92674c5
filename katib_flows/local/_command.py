"""From a trial template and one trial's assignments to the local command that runs it.

Used by the local lanes. Accepts every template form a laptop can run: the ``command`` short form, a
Kubernetes Job, a TFJob/PyTorchJob/XGBoostJob/MPIJob (the primary container of its first replica), and a
``configMap`` template read from a file beside the Experiment. The container's image is ignored; its
``command``/``args``/``env``/``workingDir`` are kept, rendered inside string values only (DESIGN.md
section 5). Relative paths resolve against the Experiment file's folder. A PBT trial's checkpoint directory
(``trial.prepare_checkpoint``) replaces the ``suggestion_trial_dir`` path the template mounts it at.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from katib_flows.errors import SpecError
from katib_flows.local._process import Command
from katib_flows.spec import Experiment, find_container, render_command, render_object, trial_parameters
from katib_flows.trial import CHECKPOINT_DIR_ENV

#: The folder the Experiment file was in, kept with the stored spec so ``resume`` finds the scripts again.
SOURCE_DIR_ANNOTATION = "katib-flows.io/source-dir"


def source_dir(experiment: Experiment) -> Path | None:
    folder = (experiment.metadata.annotations or {}).get(SOURCE_DIR_ANNOTATION)
    return Path(folder) if folder else None


def template_object(experiment: Experiment, base_dir: Path | None) -> dict[str, Any] | None:
    """The trial object of the template: ``trialSpec``, or the ConfigMap's template read from a file."""
    template = experiment.spec.trial_template
    assert template is not None
    if template.trial_spec is not None:
        return template.trial_spec
    if template.config_map is None:
        return None
    return _config_map_template(
        template.config_map.config_map_name or "", template.config_map.template_path or "", base_dir
    )


def _config_map_template(name: str, key: str, base_dir: Path | None) -> dict[str, Any]:
    """Look for ``<key>`` beside the Experiment, else a ConfigMap manifest ``<name>.yaml`` holding that key."""
    folder = base_dir or Path.cwd()
    direct, manifest = folder / key, folder / f"{name}.yaml"
    text: object
    if direct.is_file():
        text = direct.read_text(encoding="utf-8")
    elif manifest.is_file():
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
        text = (data.get("data") or {}).get(key) if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise SpecError(f"{manifest}: data.{key} is missing; the ConfigMap must hold the trial template under it")
    else:
        raise SpecError(
            f"spec.trialTemplate.configMap: the template {key!r} of ConfigMap {name!r} is not on this machine; "
            f"put it at {direct} or save the ConfigMap as {manifest}"
        )
    try:
        obj = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"ConfigMap {name!r} key {key!r}: the trial template is not valid YAML: {exc}") from exc
    if not isinstance(obj, dict):
        raise SpecError(f"ConfigMap {name!r} key {key!r}: the trial template must be a Kubernetes object")
    return obj


def trial_command(
    experiment: Experiment,
    assignments: dict[str, Any],
    *,
    trial_name: str,
    namespace: str,
    checkpoint_dir: Path | None = None,
) -> Command:
    """The rendered command of one trial, ready for ``TrialProcess``; ``checkpoint_dir``: see ``point_to``."""
    command = _rendered_command(experiment, assignments, trial_name=trial_name, namespace=namespace)
    mount = experiment.checkpoint_path
    if checkpoint_dir is None or mount is None:
        return command
    env = {k: point_to(v, mount, checkpoint_dir) for k, v in command.env.items()}
    env[CHECKPOINT_DIR_ENV] = str(checkpoint_dir)
    argv = [point_to(arg, mount, checkpoint_dir) for arg in command.argv]
    return Command(argv=argv, env=env, cwd=command.cwd, timeout=command.timeout)


def point_to(text: str, mount: str, directory: Path) -> str:
    """``text`` with the path ``mount`` (Katib mounts the trial's checkpoint there) replaced by ``directory``.

    Only whole paths are replaced: ``--checkpoint=/ckpt/`` and ``/ckpt/model.pt`` become ``<directory>/``
    and ``<directory>/model.pt``; ``/ckpt2`` and ``/data/ckpt`` are left alone.
    """
    prefix = mount.rstrip("/")
    if not prefix:
        return text
    pattern = re.compile(rf"(?<![\w.\-/]){re.escape(prefix)}(?![\w.\-])")
    return pattern.sub(lambda _: str(directory), text)


def _rendered_command(
    experiment: Experiment, assignments: dict[str, Any], *, trial_name: str, namespace: str
) -> Command:
    template = experiment.spec.trial_template
    assert template is not None
    base_dir = source_dir(experiment)
    params = trial_parameters(experiment)
    if template.command is not None:
        argv = render_command(template.command, params, assignments, trial_name=trial_name, namespace=namespace)
        return Command(argv=argv, env=_path_env(), cwd=base_dir)
    obj = template_object(experiment, base_dir)
    assert obj is not None
    rendered = render_object(obj, params, assignments, trial_name=trial_name, namespace=namespace)
    found = find_container(rendered, template.primary_container_name)
    if found is None:
        raise SpecError(
            f"spec.trialTemplate.primaryContainerName: no container named {template.primary_container_name!r} "
            f"in the {rendered.get('kind')} to run locally; local runs need a Job, a Kubeflow training job "
            "or the command short form"
        )
    _, container = found
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    if not argv:
        raise SpecError(
            f"container {template.primary_container_name!r} has no command: locally the image's entrypoint is "
            "unknown; write the command in the template"
        )
    env = _path_env()
    for item in container.get("env") or []:
        if isinstance(item, dict) and "name" in item and "value" in item:
            env[str(item["name"])] = str(item["value"])
    cwd = base_dir
    if container.get("workingDir"):
        cwd = (base_dir or Path.cwd()) / str(container["workingDir"])
    deadline = (rendered.get("spec") or {}).get("activeDeadlineSeconds")
    timeout = float(deadline) if isinstance(deadline, int | float) and not isinstance(deadline, bool) else None
    return Command(argv=argv, env=env, cwd=cwd, timeout=timeout)


def _path_env() -> dict[str, str]:
    """Trials see this interpreter's environment first on PATH, as if its virtualenv were activated."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return {"PATH": bin_dir + os.pathsep + path if path else bin_dir}


def images(experiment: Experiment) -> list[str]:
    """The container images a template names; they are ignored when trials run locally."""
    obj = experiment.spec.trial_template.trial_spec if experiment.spec.trial_template else None
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("image"), str):
                found.append(node["image"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(obj)
    return sorted(set(found))
