"""A conformance harness: executes a compiled Workflow on this machine by following its own templates.

It plays Argo's controller for the subset of Argo the compiler emits, and refuses anything else (so a
new field in the compiler fails here until the harness learns it): ``steps`` templates (groups run one
after the other, the steps of a group in parallel), ``withParam`` (must be a JSON list; ``{{item}}`` and
``{{item.key}}``), ``when`` (``==``/``!=`` on the substituted text joined by ``&&``/``||``), parameters
(``{{inputs.parameters.x}}``, ``{{steps.s.outputs.parameters.p}}`` with fan-in as a JSON list,
``{{workflow.name|namespace|uid|status|parameters.x}}``), recursion with Argo's depth limit of 100,
``container`` templates whose ``valueFrom.path`` outputs are read from files, env ``secretKeyRef`` from
the harness's secrets, ``retryStrategy.limit`` and ``onExit`` with ``{{workflow.status}}``.

A reference that does not resolve fails the node, as it does in Argo v4 (an absent output fails
terminally), and a ``when`` that never turns false runs into the depth limit. Each container runs the
step's command (``katib-flows ...``) as a local process (``Processes``), or in this process
(``InProcess``, one step at a time, for long runs); container paths under ``/tmp/`` are mapped into a
folder per node, as a container's own filesystem would be. Workflows a step creates (the next
generation) land in ``workflows_dir`` and are run in turn by ``run_chain``.

Named a fake in the tests: it is not Argo, only what the compiled Workflow asks of Argo.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_DEPTH = 100
_REFERENCE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_CONTAINER_ROOT = "/tmp/"
_TEMPLATE_KINDS = {"container", "steps"}
_KNOWN_TEMPLATE_KEYS = {"name", "inputs", "outputs", "retryStrategy", *_TEMPLATE_KINDS}
_KNOWN_STEP_KEYS = {"name", "template", "arguments", "when", "withParam"}
_KNOWN_CONTAINER_KEYS = {"image", "imagePullPolicy", "command", "args", "env", "resources"}
_KNOWN_SPEC_KEYS = {"entrypoint", "onExit", "templates", "arguments", "serviceAccountName", "podGC"}


class HarnessError(Exception):
    """The Workflow asks for something Argo would refuse (or the harness does not know)."""


@dataclass
class Node:
    name: str
    template: str
    depth: int
    phase: str = "Pending"
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass
class Run:
    """One Workflow's execution: its phase, nodes in start order, and what its exit handler output."""

    workflow: str
    phase: str
    nodes: list[Node]
    exit_outputs: dict[str, str]
    max_depth: int


Executor = Callable[[list[str], dict[str, str], Path], tuple[int, str]]


class Processes:
    """Runs ``katib-flows`` steps as real processes of this interpreter."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env

    def __call__(self, argv: list[str], env: dict[str, str], sandbox: Path) -> tuple[int, str]:
        program = _program(argv)
        done = subprocess.run(
            program,
            cwd=self.cwd,
            env={**os.environ, **self.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr


class InProcess:
    """Runs ``katib-flows`` steps by calling the CLI's ``main`` here, one at a time (env patched)."""

    _lock = threading.Lock()

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env

    def __call__(self, argv: list[str], env: dict[str, str], sandbox: Path) -> tuple[int, str]:
        from katib_flows.cli import main

        if argv[0] != "katib-flows":
            raise HarnessError(f"in-process steps must run katib-flows, not {argv[0]!r}")
        out = io.StringIO()
        with (
            self._lock,
            _patched_env({**self.env, **env}),
            _chdir(self.cwd),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(out),
        ):
            code = main(argv[1:])
        return code, out.getvalue()


def _program(argv: list[str]) -> list[str]:
    if argv[0] == "katib-flows":
        return [sys.executable, "-m", "katib_flows", *argv[1:]]
    return argv


@contextlib.contextmanager
def _patched_env(values: dict[str, str]) -> Any:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _chdir(path: Path) -> Any:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


class Harness:
    """Executes one Workflow object (a dict) to completion, then its exit handler."""

    def __init__(
        self,
        workflow: dict[str, Any],
        *,
        executor: Executor,
        secrets: dict[tuple[str, str], str],
        scratch: Path,
        parallel: bool = True,
        uid: str = "00000000-0000-0000-0000-000000000000",
    ) -> None:
        self.workflow, self.executor, self.secrets, self.scratch = workflow, executor, secrets, scratch
        self.parallel, self.uid = parallel, uid
        spec = workflow["spec"]
        unknown = set(spec) - _KNOWN_SPEC_KEYS
        if unknown:
            raise HarnessError(f"spec fields the harness does not follow: {sorted(unknown)}")
        self.templates = {t["name"]: t for t in spec["templates"]}
        self.name = workflow["metadata"]["name"]
        self.namespace = workflow["metadata"].get("namespace", "default")
        self.parameters = {p["name"]: p.get("value", "") for p in (spec.get("arguments") or {}).get("parameters", [])}
        self.status: str | None = None
        self.nodes: list[Node] = []
        self._lock = threading.Lock()
        self._counter = 0

    # -- scope -------------------------------------------------------------------------------------------

    def _global(self, key: str) -> str | None:
        if key.startswith("workflow.parameters."):
            return self.parameters.get(key.removeprefix("workflow.parameters."))
        fixed = {"workflow.name": self.name, "workflow.namespace": self.namespace, "workflow.uid": self.uid}
        if key == "workflow.status":
            return self.status
        return fixed.get(key)

    def substitute(self, text: str, scope: dict[str, str], where: str) -> str:
        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            if key.startswith("="):
                raise HarnessError(f"{where}: expression tags are not used by the compiler: {match.group(0)}")
            value = scope.get(key)
            if value is None:
                value = self._global(key)
            if value is None:
                raise HarnessError(f"{where}: unresolved reference {match.group(0)}")
            return value

        return _REFERENCE.sub(replace, text)

    def _substitute_tree(self, node: Any, scope: dict[str, str], where: str) -> Any:
        if isinstance(node, str):
            return self.substitute(node, scope, where)
        if isinstance(node, list):
            return [self._substitute_tree(v, scope, where) for v in node]
        if isinstance(node, dict):
            return {k: self._substitute_tree(v, scope, where) for k, v in node.items()}
        return node

    # -- execution ---------------------------------------------------------------------------------------

    def run(self) -> Run:
        entry = self.workflow["spec"]["entrypoint"]
        main = self.execute(entry, {}, depth=1, node_name=self.name)
        self.status = "Succeeded" if main.phase == "Succeeded" else "Failed"
        exit_outputs: dict[str, str] = {}
        on_exit = self.workflow["spec"].get("onExit")
        if on_exit:
            handler = self.execute(on_exit, {}, depth=1, node_name=f"{self.name}.onExit")
            exit_outputs = handler.outputs
            if handler.phase != "Succeeded":
                self.status = "Failed"
        return Run(self.name, self.status, self.nodes, exit_outputs, max(n.depth for n in self.nodes))

    def execute(self, template_name: str, arguments: dict[str, str], *, depth: int, node_name: str) -> Node:
        if depth > MAX_DEPTH:
            raise HarnessError(f"{node_name}: Maximum recursion depth exceeded ({MAX_DEPTH})")
        template = self.templates.get(template_name)
        if template is None:
            raise HarnessError(f"{node_name}: no template named {template_name!r}")
        unknown = set(template) - _KNOWN_TEMPLATE_KEYS
        if unknown or len(set(template) & _TEMPLATE_KINDS) != 1:
            raise HarnessError(f"template {template_name}: fields the harness does not follow: {sorted(unknown)}")
        node = Node(node_name, template_name, depth)
        with self._lock:
            self.nodes.append(node)
        inputs: dict[str, str] = {}
        for parameter in (template.get("inputs") or {}).get("parameters", []):
            value = arguments.get(parameter["name"], parameter.get("value", parameter.get("default")))
            if value is None:
                raise HarnessError(f"{node_name}: input parameter {parameter['name']!r} was not supplied")
            inputs[f"inputs.parameters.{parameter['name']}"] = value
        if "steps" in template:
            self._steps(template, inputs, node)
        else:
            self._container(template, inputs, node)
        return node

    def _steps(self, template: dict[str, Any], inputs: dict[str, str], node: Node) -> None:
        if template.get("outputs"):
            raise HarnessError(f"template {template['name']}: outputs of steps templates are not followed")
        scope = dict(inputs)
        node.phase = "Succeeded"
        for group in template["steps"]:
            runs: list[tuple[dict[str, Any], dict[str, str], str]] = []
            for step in group:
                unknown = set(step) - _KNOWN_STEP_KEYS
                if unknown:
                    raise HarnessError(f"step {step['name']}: fields the harness does not follow: {sorted(unknown)}")
                items: list[Any] = [None]
                if "withParam" in step:
                    raw = self.substitute(step["withParam"], scope, f"{node.name}.{step['name']}.withParam")
                    try:
                        items = json.loads(raw)
                    except ValueError as exc:
                        raise HarnessError(f"withParam value could not be parsed as a JSON list: {raw!r}") from exc
                    if not isinstance(items, list):
                        raise HarnessError(f"withParam value could not be parsed as a JSON list: {raw!r}")
                for index, item in enumerate(items):
                    local = dict(scope)
                    suffix = ""
                    if "withParam" in step:
                        local["item"] = item if isinstance(item, str) else json.dumps(item)
                        if isinstance(item, dict):
                            local.update({f"item.{k}": str(v) for k, v in item.items()})
                        suffix = f"({index}:{local['item']})"
                    where = f"{node.name}.{step['name']}{suffix}"
                    if "when" in step and not evaluate_when(self.substitute(step["when"], local, f"{where}.when")):
                        continue
                    arguments = {
                        p["name"]: self.substitute(p.get("value", ""), local, where)
                        for p in (step.get("arguments") or {}).get("parameters", [])
                    }
                    runs.append((step, arguments, where))
            children = self._run_group(runs, node.depth + 1)
            by_step: dict[str, list[Node]] = {}
            for (step, _, _), child in zip(runs, children, strict=True):
                by_step.setdefault(step["name"], []).append(child)
            for step in group:
                results = by_step.get(step["name"], [])
                fanned = "withParam" in step
                names = {name for child in results for name in child.outputs}
                for name in names:
                    values = [child.outputs[name] for child in results if name in child.outputs]
                    scope[f"steps.{step['name']}.outputs.parameters.{name}"] = (
                        json.dumps(values) if fanned else values[0]
                    )
            if any(child.phase != "Succeeded" for child in children):
                node.phase = "Failed"
                node.message = "; ".join(c.message for c in children if c.phase != "Succeeded")
                return

    def _run_group(self, runs: list[tuple[dict[str, Any], dict[str, str], str]], depth: int) -> list[Node]:
        def one(run: tuple[dict[str, Any], dict[str, str], str]) -> Node:
            step, arguments, where = run
            return self.execute(step["template"], arguments, depth=depth, node_name=where)

        if not self.parallel or len(runs) < 2:
            return [one(r) for r in runs]
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            return list(pool.map(one, runs))

    def _container(self, template: dict[str, Any], inputs: dict[str, str], node: Node) -> None:
        container = template["container"]
        unknown = set(container) - _KNOWN_CONTAINER_KEYS
        if unknown:
            raise HarnessError(f"container of {template['name']}: fields the harness does not follow: {unknown}")
        with self._lock:
            self._counter += 1
            sandbox = self.scratch / f"node-{self._counter:05d}"
        sandbox.mkdir(parents=True)
        argv = [self._map(a, sandbox) for a in self._substitute_tree(
            [*container.get("command", []), *container.get("args", [])], inputs, node.name)]  # fmt: skip
        env: dict[str, str] = {}
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = self.substitute(item["value"], inputs, node.name)
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                secret = self.secrets.get((ref["name"], ref["key"]))
                if secret is None:
                    raise HarnessError(f"{node.name}: Secret {ref['name']!r} has no key {ref['key']!r}")
                env[item["name"]] = secret
        attempts = 1 + int((template.get("retryStrategy") or {}).get("limit", "0"))
        for _ in range(attempts):
            code, log = self.executor(argv, env, sandbox)
            node.message = log
            if code == 0 or code == 2:  # 2: bad input, which the compiled retryStrategy does not retry
                break
        if code != 0:
            node.phase = "Failed"
            node.message = f"exit code {code}: {log}"
            return
        for parameter in (template.get("outputs") or {}).get("parameters", []):
            path = Path(self._map(parameter["valueFrom"]["path"], sandbox))
            try:
                node.outputs[parameter["name"]] = path.read_text(encoding="utf-8")
            except FileNotFoundError as exc:
                raise HarnessError(f"{node.name}: output {parameter['name']!r} not written at {path}") from exc
        node.phase = "Succeeded"

    @staticmethod
    def _map(text: str, sandbox: Path) -> str:
        """A container path under /tmp/ as a path in this node's own folder."""
        if text.startswith(_CONTAINER_ROOT):
            return str(sandbox / text.removeprefix(_CONTAINER_ROOT))
        return text


def evaluate_when(expression: str) -> bool:
    """Argo's ``when`` for the forms the compiler writes: ``a == b``, ``a != b``, joined by ``&&``/``||``."""
    return any(all(_comparison(p.strip()) for p in disjunct.split("&&")) for disjunct in expression.split("||"))


def _comparison(text: str) -> bool:
    for operator in ("==", "!="):
        if operator in text:
            left, right = (side.strip() for side in text.split(operator, 1))
            return (left == right) == (operator == "==")
    raise HarnessError(f"when: cannot evaluate {text!r}")


def run_chain(
    first: dict[str, Any],
    *,
    executor: Executor,
    secrets: dict[tuple[str, str], str],
    scratch: Path,
    workflows_dir: Path,
    parallel: bool = True,
    limit: int = 20,
) -> list[Run]:
    """Run a Workflow, then every Workflow its exit handler created (its next generations), in order."""
    runs: list[Run] = []
    namespace = first["metadata"].get("namespace", "default")
    folder = workflows_dir / namespace
    folder.mkdir(parents=True, exist_ok=True)
    current: dict[str, Any] | None = first
    while current is not None:
        if len(runs) >= limit:
            raise HarnessError(f"more than {limit} generations: the hand-off does not stop")
        (folder / f"{current['metadata']['name']}.json").write_text(json.dumps(current), encoding="utf-8")
        harness = Harness(
            current,
            executor=executor,
            secrets=secrets,
            scratch=scratch / current["metadata"]["name"],
            parallel=parallel,
        )
        run = harness.run()
        runs.append(run)
        created = run.exit_outputs.get("next-workflow", "none")
        current = None
        if created != "none":
            current = json.loads((folder / f"{created}.json").read_text(encoding="utf-8"))
    return runs
