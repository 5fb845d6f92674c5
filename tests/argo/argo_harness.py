"""A conformance harness: executes a compiled Workflow on this machine by following its own templates.

It plays Argo v4.1.2's controller for the subset of Argo the compiler emits, and refuses anything else
(so a new field in the compiler fails here until the harness learns it). What it follows, with the text
semantics in ``argo_model.py``:

- the Workflow as the API server holds it: written to ``workflows_dir`` (where the steps read and create
  Workflows), a ``workflowTemplateRef`` resolved against ``templates`` with the Workflow's arguments
  over the template's, ``workflowMetadata.labels`` substituted and copied, ``status.phase`` at the end;
- validation at submit: every tag of a container template, after the Workflow's parameters are
  substituted into it, must resolve (an Experiment with ``{{...}}`` substituted into a template fails);
  the spec's own arguments substituted once and saved (``substituteGlobalVariables``);
- ``steps`` templates (groups one after the other, a group's steps in parallel), ``withParam`` (a JSON
  list; ``{{item}}``), ``when`` as govaluate parses it (a parse error fails the Workflow), a reference to
  an output nobody declared (Argo requeues forever: an error here), recursion failing at depth 100;
- ``container`` templates: parameters substituted twice into the template's JSON with Go's quoting (a
  result that is not JSON fails), env ``secretKeyRef`` from the harness's secrets, an env string or
  argument over 128 KiB failing exec, ``valueFrom.path`` outputs read with one trailing newline trimmed
  (a missing file fails the attempt), a fresh filesystem for each attempt, template ``volumes`` of
  PersistentVolumeClaims as shared folders;
- ``retryStrategy``: limit, the exit-code expression, backoff waits on a virtual clock (``Clock``) with
  ``cap``, and ``maxDuration`` as a deadline from the first attempt's start (also the retry's deadline);
- ``onExit`` with ``{{workflow.status}}``, and the stored Workflow's size (nodes as Argo records them,
  gzipped past 1 MiB, an error past 1 MiB gzipped).

Each container runs the step's command (``katib-flows ...``) as a local process (``Processes``), or in
this process (``InProcess``, one step at a time, for long runs); container paths under ``/tmp/`` are
mapped into a folder per attempt. Workflows a step creates (the next generation) land in
``workflows_dir`` and are run in turn by ``run_chain``.

Named a fake in the tests: it is not Argo, only what the compiled Workflow asks of Argo.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argo_model import (
    MAX_EXEC_STRING,
    HarnessError,
    Requeued,
    backoff_wait,
    check_label_value,
    evaluate_when,
    node_id,
    retry_allowed,
    seconds,
    stored_size,
    substitute,
    unresolved,
)

__all__ = ["Clock", "HarnessError", "InProcess", "Node", "Processes", "Requeued", "Run", "evaluate_when", "run_chain"]

#: ``maxAllowedStackDepth``: ``executeTemplate`` fails when the depth it reaches is 100 or more.
MAX_DEPTH = 100
_CONTAINER_ROOT = "/tmp/"
_TEMPLATE_KINDS = {"container", "steps"}
_KNOWN_TEMPLATE_KEYS = {"name", "inputs", "outputs", "retryStrategy", "volumes", *_TEMPLATE_KINDS}
_KNOWN_STEP_KEYS = {"name", "template", "arguments", "when", "withParam"}
_KNOWN_CONTAINER_KEYS = {"image", "imagePullPolicy", "command", "args", "env", "resources", "volumeMounts"}
_KNOWN_SPEC_KEYS = {
    "entrypoint", "onExit", "templates", "arguments", "serviceAccountName", "podGC", "workflowMetadata",
}  # fmt: skip
_GLOBALS = ("workflow.name", "workflow.namespace", "workflow.uid", "workflow.status")
_TIME = "2026-01-01T00:00:00Z"


@dataclass
class Node:
    """One node of the Workflow's status (Steps, StepGroup, Retry, Pod or Skipped), as Argo records it."""

    name: str
    template: str
    depth: int
    type: str = "Pod"
    phase: str = "Pending"
    outputs: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    children: list[Node] = field(default_factory=list)
    boundary: str = ""


@dataclass
class Run:
    """One Workflow's execution: its phase, nodes in start order, what its exit handler output, and the
    bytes Argo would store for it (``compressed``: its node status had to be gzipped)."""

    workflow: str
    phase: str
    nodes: list[Node]
    exit_outputs: dict[str, str]
    max_depth: int
    stored_bytes: int = 0
    compressed: bool = False


class Clock:
    """Virtual seconds: backoff waits advance it instead of sleeping; an executor may advance it too."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
        workflows_dir: Path | None = None,
        templates: dict[str, dict[str, Any]] | None = None,
        claims: Path | None = None,
        clock: Clock | None = None,
        parallel: bool = True,
        uid: str = "00000000-0000-0000-0000-000000000000",
    ) -> None:
        self.executor, self.secrets, self.scratch = executor, secrets, scratch
        self.workflows_dir, self.claims = workflows_dir, claims or scratch / "claims"
        self.clock, self.parallel, self.uid = clock or Clock(), parallel, uid
        self.stored = copy.deepcopy(workflow)  # the object as the API server holds it
        self.name = workflow["metadata"]["name"]
        self.namespace = workflow["metadata"].get("namespace", "default")
        self.referenced = "workflowTemplateRef" in workflow["spec"]
        self.spec = self._execution_spec(workflow["spec"], templates or {})
        unknown = set(self.spec) - _KNOWN_SPEC_KEYS
        if unknown:
            raise HarnessError(f"spec fields the harness does not follow: {sorted(unknown)}")
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.status: str | None = None
        self.nodes: list[Node] = []
        self._lock = threading.Lock()
        self._counter = 0

    def _execution_spec(self, spec: dict[str, Any], templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """``setExecWorkflow``: the Workflow's own spec, or its template's with the Workflow's arguments over it."""
        if not self.referenced:
            return copy.deepcopy(spec)
        extra = set(spec) - {"workflowTemplateRef", "arguments"}
        if extra:
            raise HarnessError(f"fields beside workflowTemplateRef the harness does not follow: {sorted(extra)}")
        name = spec["workflowTemplateRef"]["name"]
        if name not in templates:
            raise HarnessError(f"workflowTemplateRef: no template named {name!r}")
        merged = copy.deepcopy(templates[name]["spec"])
        given = {p["name"]: p for p in (spec.get("arguments") or {}).get("parameters", [])}
        parameters = [given.pop(p["name"], p) for p in (merged.get("arguments") or {}).get("parameters", [])]
        merged["arguments"] = {"parameters": [*parameters, *given.values()]}
        return merged

    # -- scope -------------------------------------------------------------------------------------------

    def _globals(self) -> dict[str, str]:
        values = {"workflow.name": self.name, "workflow.namespace": self.namespace, "workflow.uid": self.uid}
        for parameter in (self.spec.get("arguments") or {}).get("parameters", []):
            values[f"workflow.parameters.{parameter['name']}"] = parameter.get("value", "")
        if self.status is not None:
            values["workflow.status"] = self.status
        return values

    def _submitted(self) -> None:
        """What Argo does before the first step: validate, substitute the spec's own fields, copy the labels."""
        values = self._globals()
        known = {*values, *_GLOBALS}
        for template in self.spec["templates"]:
            if "container" not in template:
                continue
            declared = {f"inputs.parameters.{p['name']}" for p in (template.get("inputs") or {}).get("parameters", [])}
            missing = unresolved(substitute(template, values), known | declared)
            if missing:
                raise HarnessError(
                    f"invalid spec: templates.{template['name']}: failed to resolve {{{{{missing[0]}}}}}"
                )
        rest = substitute({k: v for k, v in self.spec.items() if k != "templates"}, values)
        self.spec.update(rest)
        if not self.referenced:  # execWf is the Workflow itself: the substituted arguments are saved in it
            self.stored["spec"].update({k: v for k, v in rest.items() if k in self.stored["spec"]})
        labels = (self.spec.get("workflowMetadata") or {}).get("labels") or {}
        for key, value in labels.items():
            check_label_value(key, value)
        if labels:
            self.stored["metadata"]["labels"] = {**(self.stored["metadata"].get("labels") or {}), **labels}

    def _save(self, phase: str | None = None) -> None:
        if self.workflows_dir is None:
            return
        document = copy.deepcopy(self.stored)
        if phase is not None:
            document["status"] = {"phase": phase}
        folder = self.workflows_dir / self.namespace
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.name}.json").write_text(json.dumps(document), encoding="utf-8")

    # -- execution ---------------------------------------------------------------------------------------

    def run(self) -> Run:
        self._submitted()
        self._save()
        main = self.execute(self.spec["entrypoint"], {}, depth=1, node_name=self.name, boundary="")
        self.status = "Succeeded" if main.phase == "Succeeded" else "Failed"
        exit_outputs: dict[str, str] = {}
        on_exit = self.spec.get("onExit")
        if on_exit:
            handler = self.execute(on_exit, {}, depth=1, node_name=f"{self.name}.onExit", boundary="")
            exit_outputs = handler.outputs
            if handler.phase != "Succeeded":
                self.status = "Failed"
        stored, compressed = stored_size(self._document())
        self._save(self.status)
        return Run(
            self.name, self.status, self.nodes, exit_outputs, max(n.depth for n in self.nodes), stored, compressed
        )

    def _add(self, node: Node) -> Node:
        with self._lock:
            self.nodes.append(node)
        return node

    def execute(
        self, template_name: str, arguments: dict[str, str], *, depth: int, node_name: str, boundary: str
    ) -> Node:
        if depth >= MAX_DEPTH:
            raise HarnessError(f"{node_name}: Maximum recursion depth exceeded ({MAX_DEPTH})")
        template = self.templates.get(template_name)
        if template is None:
            raise HarnessError(f"{node_name}: no template named {template_name!r}")
        unknown = set(template) - _KNOWN_TEMPLATE_KEYS
        if unknown or len(set(template) & _TEMPLATE_KINDS) != 1:
            raise HarnessError(f"template {template_name}: fields the harness does not follow: {sorted(unknown)}")
        inputs: dict[str, str] = {}
        for parameter in (template.get("inputs") or {}).get("parameters", []):
            value = arguments.get(parameter["name"], parameter.get("value", parameter.get("default")))
            if value is None:
                raise HarnessError(f"{node_name}: input parameter {parameter['name']!r} was not supplied")
            inputs[parameter["name"]] = value
        kind = "Steps" if "steps" in template else "Retry" if template.get("retryStrategy") else "Pod"
        node = self._add(Node(node_name, template_name, depth, type=kind, inputs=inputs, boundary=boundary))
        resolved = self._substitute_params(template, inputs)
        if "steps" in template:
            self._steps(resolved, node)
        else:
            self._retried(resolved, node)
        return node

    def _substitute_params(self, template: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
        """``SubstituteParams``: the globals into the template's JSON, then the inputs into the result."""
        values = self._globals()
        once = substitute(template, values)
        return substitute(once, {**values, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}})  # type: ignore[no-any-return]

    def _steps(self, template: dict[str, Any], node: Node) -> None:
        if template.get("outputs"):
            raise HarnessError(f"template {template['name']}: outputs of steps templates are not followed")
        scope: dict[str, str] = {}
        node.phase = "Succeeded"
        own_id = node_id(self.name, node.name)
        for index, group in enumerate(template["steps"]):
            group_node = self._add(Node(f"{node.name}[{index}]", "", node.depth, type="StepGroup", boundary=own_id))
            node.children.append(group_node)
            runs = [run for step in group for run in self._expand(step, scope, group_node, own_id)]
            children = self._run_group(runs, node.depth + 1)
            group_node.children.extend(children)
            group_node.phase = "Succeeded" if all(c.phase in ("Succeeded", "Skipped") for c in children) else "Failed"
            by_step: dict[str, list[Node]] = {}
            for (step, _, _), child in zip(runs, children, strict=True):
                by_step.setdefault(step["name"], []).append(child)
            for step in group:
                results = by_step.get(step["name"], [])
                fanned = "withParam" in step
                for name in {name for child in results for name in child.outputs}:
                    values = [child.outputs[name] for child in results if name in child.outputs]
                    scope[f"steps.{step['name']}.outputs.parameters.{name}"] = (
                        json.dumps(values) if fanned else values[0]
                    )
            if group_node.phase != "Succeeded":
                node.phase = "Failed"
                node.message = "; ".join(c.message for c in children if c.phase not in ("Succeeded", "Skipped"))
                return

    def _expand(
        self, step: dict[str, Any], scope: dict[str, str], group: Node, boundary: str
    ) -> list[tuple[dict[str, Any], dict[str, str], str]]:
        """``resolveReferences`` and ``expandStep``: the runs of one step (none when skipped)."""
        unknown = set(step) - _KNOWN_STEP_KEYS
        if unknown:
            raise HarnessError(f"step {step['name']}: fields the harness does not follow: {sorted(unknown)}")
        values = {**self._globals(), **scope}
        where = f"{group.name}.{step['name']}"
        if "when" in step:
            if "withParam" in step:
                raise HarnessError(f"{where}: when with withParam is not followed")
            when = substitute(step["when"], values, strict=("steps", "tasks"))
            if not evaluate_when(when):
                skipped = Node(where, step["template"], group.depth + 1, type="Skipped", phase="Skipped",
                               message=f"when '{when}' evaluated false", boundary=boundary)  # fmt: skip
                group.children.append(self._add(skipped))
                return []
        resolved = substitute({k: v for k, v in step.items() if k != "withParam"}, values, strict=("steps", "tasks"))
        if "withParam" not in step:
            return [(step, _arguments(resolved), where)]
        raw = substitute(step["withParam"], values, strict=("steps", "tasks"))
        try:
            items = json.loads(raw)
        except ValueError as exc:
            raise HarnessError(f"withParam value could not be parsed as a JSON list: {raw!r}") from exc
        if not isinstance(items, list):
            raise HarnessError(f"withParam value could not be parsed as a JSON list: {raw!r}")
        if not items:
            skipped = Node(where, step["template"], group.depth + 1, type="Skipped", phase="Skipped",
                           message="Skipped, empty params", boundary=boundary)  # fmt: skip
            group.children.append(self._add(skipped))
        runs = []
        for index, item in enumerate(items):
            text = item if isinstance(item, str) else json.dumps(item)
            expanded = substitute(resolved, {"item": text})
            runs.append((step, _arguments(expanded), f"{where}({index}:{text})"))
        return runs

    def _run_group(self, runs: list[tuple[dict[str, Any], dict[str, str], str]], depth: int) -> list[Node]:
        def one(run: tuple[dict[str, Any], dict[str, str], str]) -> Node:
            step, arguments, where = run
            boundary = node_id(self.name, where.rsplit("[", 1)[0])
            return self.execute(step["template"], arguments, depth=depth, node_name=where, boundary=boundary)

        if not self.parallel or len(runs) < 2:
            return [one(r) for r in runs]
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            return list(pool.map(one, runs))

    def _retried(self, template: dict[str, Any], node: Node) -> None:
        """``processNodeRetries``: attempts as child Pod nodes, backoff on the clock, ``maxDuration`` a deadline."""
        strategy = template.get("retryStrategy")
        if strategy is None:
            self._attempt(template, node, None)
            return
        limit = int(strategy.get("limit", "0"))
        backoff = strategy.get("backoff")
        policy = strategy.get("retryPolicy", "OnFailure")
        if policy not in ("Always", "OnFailure", "OnError"):
            raise HarnessError(f"retryPolicy {policy!r} is not followed")
        first_start: float | None = None
        deadline: float | None = None
        attempts = 0
        while True:
            pod = self._add(Node(f"{node.name}({attempts})", node.template, node.depth, inputs=node.inputs,
                                 boundary=node.boundary))  # fmt: skip
            node.children.append(pod)
            attempts += 1
            first_start = self.clock.now if first_start is None else first_start
            code = self._attempt(template, pod, deadline)
            if pod.phase == "Succeeded":
                node.phase, node.outputs = "Succeeded", pod.outputs
                return
            node.message = pod.message
            if backoff:
                if backoff.get("maxDuration"):
                    deadline = first_start + seconds(backoff["maxDuration"])
                    if self.clock.now > deadline:
                        node.phase, node.message = "Failed", "Max duration limit exceeded"
                        return
                wait = backoff_wait(backoff, attempts)
                if deadline is not None and self.clock.now + wait > deadline:
                    node.phase, node.message = "Failed", "Backoff would exceed max duration limit"
                    return
                if attempts <= limit:
                    self.clock.advance(wait)
            retried_kind = {"Always": ("Failed", "Error"), "OnFailure": ("Failed",), "OnError": ("Error",)}[policy]
            if pod.phase not in retried_kind or not retry_allowed(strategy.get("expression"), code):
                node.phase = "Failed"
                return
            if attempts > limit:
                node.phase, node.message = "Failed", f"No more retries left: {pod.message}"
                return

    def _attempt(self, template: dict[str, Any], pod: Node, deadline: float | None) -> int:
        """One pod: a fresh filesystem, the command, then the output files (Argo trims one trailing newline)."""
        container = template["container"]
        unknown = set(container) - _KNOWN_CONTAINER_KEYS
        if unknown:
            raise HarnessError(f"container of {template['name']}: fields the harness does not follow: {unknown}")
        with self._lock:
            self._counter += 1
            sandbox = self.scratch / f"pod-{self._counter:05d}"
        sandbox.mkdir(parents=True)
        mounts = self._mounts(template)
        argv = [self._map(a, sandbox, mounts) for a in [*container.get("command", []), *container.get("args", [])]]
        env: dict[str, str] = {}
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = self._map(item["value"], sandbox, mounts)
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                secret = self.secrets.get((ref["name"], ref["key"]))
                if secret is None:
                    raise HarnessError(f"{pod.name}: Secret {ref['name']!r} has no key {ref['key']!r}")
                env[item["name"]] = secret
        left = unresolved([argv, env], set())
        if left:
            raise HarnessError(f"{pod.name}: unresolved reference {{{{{left[0]}}}}}")
        long = [k for k, v in env.items() if len(f"{k}={v}".encode()) > MAX_EXEC_STRING]
        if long:  # Argo moves long args to a file, never env: exec fails with E2BIG, every attempt
            pod.phase, pod.message = "Failed", f"exec: argument list too long (env {long[0]} over 128 KiB)"
            return 128
        code, log = self.executor(argv, env, sandbox)
        if deadline is not None and self.clock.now > deadline:
            pod.phase, pod.message = "Failed", "Pod was active on the node longer than the specified deadline"
            return code
        if code != 0:
            pod.phase, pod.message = "Failed", f"exit code {code}: {log}"
            return code
        for parameter in (template.get("outputs") or {}).get("parameters", []):
            path = Path(self._map(parameter["valueFrom"]["path"], sandbox, mounts))
            try:
                pod.outputs[parameter["name"]] = path.read_text(encoding="utf-8").removesuffix("\n")
            except FileNotFoundError:
                pod.phase, pod.message = "Error", f"open {parameter['valueFrom']['path']}: no such file or directory"
                return code
        pod.phase, pod.message = "Succeeded", log
        return code

    def _mounts(self, template: dict[str, Any]) -> dict[str, Path]:
        """Container mount path -> the folder standing in for its PersistentVolumeClaim (shared by all pods)."""
        volumes = {v["name"]: v for v in template.get("volumes", [])}
        mounts: dict[str, Path] = {}
        for mount in template["container"].get("volumeMounts", []):
            claim = (volumes.get(mount["name"]) or {}).get("persistentVolumeClaim")
            if claim is None:
                raise HarnessError(f"template {template['name']}: volume {mount['name']!r} is not a claim it knows")
            folder = self.claims / claim["claimName"]
            folder.mkdir(parents=True, exist_ok=True)
            mounts[mount["mountPath"].rstrip("/")] = folder
        return mounts

    @staticmethod
    def _map(text: str, sandbox: Path, mounts: dict[str, Path]) -> str:
        """A container path as a path on this machine: under /tmp/ the attempt's own folder, else a claim's."""
        if text.startswith(_CONTAINER_ROOT):
            return str(sandbox / text.removeprefix(_CONTAINER_ROOT))
        for mount, folder in mounts.items():
            if text == mount or text.startswith(mount + "/"):
                return str(folder) + text.removeprefix(mount)
        return text

    # -- the stored status ---------------------------------------------------------------------------------

    def _document(self) -> dict[str, Any]:
        """The Workflow as Argo would store it at the end: its spec, and every node's status."""
        nodes = {node_id(self.name, n.name): self._node_status(n) for n in self.nodes}
        status: dict[str, Any] = {"phase": self.status, "startedAt": _TIME, "finishedAt": _TIME, "nodes": nodes,
                                  "progress": f"{len(nodes)}/{len(nodes)}"}  # fmt: skip
        if self.referenced:
            status["storedWorkflowTemplateSpec"] = self.spec
        return {**self.stored, "status": status}

    def _node_status(self, node: Node) -> dict[str, Any]:
        """A ``NodeStatus`` with the fields Argo fills for this node type (times fixed, ids as Argo makes them)."""
        entry: dict[str, Any] = {
            "id": node_id(self.name, node.name),
            "name": node.name,
            "displayName": node.name.removeprefix(self.name).rsplit(".", 1)[-1] or self.name,
            "type": node.type,
            "templateScope": f"local/{self.name}",
            "phase": node.phase,
            "startedAt": _TIME,
            "finishedAt": _TIME,
            "progress": "1/1",
        }
        if node.template:
            entry["templateName"] = node.template
        if node.boundary:
            entry["boundaryID"] = node.boundary
        if node.type == "Skipped":
            entry["message"] = node.message
        if node.inputs:
            entry["inputs"] = {"parameters": [{"name": k, "value": v} for k, v in node.inputs.items()]}
        if node.outputs:
            paths = {p["name"]: p["valueFrom"]["path"] for p in self.templates[node.template]["outputs"]["parameters"]}
            parameters = [{"name": k, "value": v, "valueFrom": {"path": paths[k]}} for k, v in node.outputs.items()]
            entry["outputs"] = {"parameters": parameters, "exitCode": "0"}
        if node.children:
            entry["children"] = [node_id(self.name, c.name) for c in node.children]
        if node.type == "Pod":
            entry.update(hostNodeName="worker-1", resourcesDuration={"cpu": 1, "memory": 8}, taskResultSynced=True)
        return entry


def _arguments(step: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p.get("value", "") for p in (step.get("arguments") or {}).get("parameters", [])}


def run_chain(
    first: dict[str, Any],
    *,
    executor: Executor,
    secrets: dict[tuple[str, str], str],
    scratch: Path,
    workflows_dir: Path,
    templates: dict[str, dict[str, Any]] | None = None,
    clock: Clock | None = None,
    parallel: bool = True,
    limit: int = 20,
) -> list[Run]:
    """Run a Workflow, then every Workflow its exit handler created (its next generations), in order."""
    runs: list[Run] = []
    folder = workflows_dir / first["metadata"].get("namespace", "default")
    current: dict[str, Any] | None = first
    while current is not None:
        if len(runs) >= limit:
            raise HarnessError(f"more than {limit} generations: the hand-off does not stop")
        harness = Harness(
            current,
            executor=executor,
            secrets=secrets,
            scratch=scratch / current["metadata"]["name"],
            workflows_dir=workflows_dir,
            templates=templates,
            claims=scratch / "claims",
            clock=clock,
            parallel=parallel,
        )
        run = harness.run()
        runs.append(run)
        created = run.exit_outputs.get("next-workflow", "none")
        current = None
        if created != "none":
            current = json.loads((folder / f"{created}.json").read_text(encoding="utf-8"))
    return runs


def run_in_process(workflow: dict[str, Any], tmp_path: Path) -> tuple[list[Run], str]:
    """``run_chain`` in this process, trials as local processes, on a SQLite store under ``tmp_path``: the
    runs and the store's URL."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {"KATIB_FLOWS_TRIAL_RUNNER": "local", "KATIB_FLOWS_WORKFLOWS_DIR": str(tmp_path / "workflows")}
    runs = run_chain(
        workflow,
        executor=InProcess(tmp_path, env),
        secrets={("katib-flows-db", "url"): url},
        scratch=tmp_path / "nodes",
        workflows_dir=tmp_path / "workflows",
    )
    return runs, url
