"""``build_workflow``: a prepared Experiment -> the checked document a workflow engine runs.

The one path from a checked Experiment (``katib_flows.spec.prepare``) to what ``katib-flows compile`` writes
and ``katib-flows submit``, ``Experiment.compile`` and ``Experiment.submit`` send: compile, then validate the
result (the unknown-field check always, Argo's JSON schema when a file is given). A compiled document
that fails them is a katib-flows bug, raised as ``CompileError`` with everything found, before anyone
applies it. The compiler is imported inside the function, so importing this module loads no hera.

``BuildOptions`` carries everything that is not the Experiment; another engine (Airflow) is one more
field here and one more branch in ``build_workflow``, with the same validation-before-use contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from katib_flows.errors import CompileError

if TYPE_CHECKING:
    from katib_flows.argo import StepOptions
    from katib_flows.spec import Experiment


@dataclass(frozen=True)
class BuildOptions:
    """How an Experiment is compiled, apart from the Experiment itself (its name and namespace)."""

    step: StepOptions | None = None
    """How the steps run (image, store Secret...); None: the compiler's defaults."""
    generate_name: bool = False
    """Write ``generateName: NAME-`` so the same document can be submitted many times."""
    schema: Path | None = None
    """Argo's JSON schema file (``api/jsonschema/schema.json``) to validate against as well."""


def build_workflow(experiment: Experiment, options: BuildOptions | None = None) -> dict[str, Any]:
    """The validated Argo Workflow of ``experiment`` (prepared: its name set), as a plain dict.

    ``metadata.namespace`` of the Workflow is the experiment's, left out when it has none (kustomize or
    ``kubectl -n`` sets it then).
    """
    from katib_flows import argo

    options = options or BuildOptions()
    if not experiment.name:
        raise CompileError("metadata.name: the experiment needs a name to be compiled")
    workflow: dict[str, Any] = argo.compile_workflow(
        experiment,
        name=experiment.name,
        namespace=experiment.namespace or None,
        options=options.step,
        generate_name=options.generate_name,
    )
    problems = argo.unknown_fields(workflow)
    if options.schema is not None:
        problems += argo.schema_problems(workflow, options.schema)
    if problems:  # our bug, not the user's: say so with everything found
        raise CompileError(
            f"experiment {experiment.name}: the compiled Workflow is not valid Argo:\n  " + "\n  ".join(problems)
        )
    return workflow
