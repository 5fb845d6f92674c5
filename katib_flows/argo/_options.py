"""``StepOptions``: how the steps of a compiled Workflow run, spelled out once for the compiler and the CLI.

The compiler (``_compile.py``) reads the values; ``katib-flows compile`` and ``submit`` generate their
options from the fields (``katib_flows.cli._options.click_options``): a field with ``help`` in its metadata
is an option ``--field-name``, with ``choices`` or ``range`` when it has them, and a value not given on the
command line keeps the default here. The DSL passes the same fields as keywords. No hera here, so the CLI
can build its options without loading the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from katib_flows.argo import _names as n
from katib_flows.errors import CompileError

_LANE_LIMIT = n.MAX_DEPTH - 10  # a lane recurses once per iteration, below Argo's recursion limit


def _cli(help: str, **more: Any) -> dict[str, Any]:
    return {"help": help, **more}


@dataclass(frozen=True)
class StepOptions:
    """How the steps run: image, store Secret, ServiceAccount, and the lane length of one generation."""

    image: str = field(
        default=n.DEFAULT_IMAGE, metadata=_cli("Image of the steps (default: this release's katib-flows image).")
    )
    db_secret: str = field(
        default=n.DEFAULT_DB_SECRET,
        metadata=_cli(f"Secret holding the store URL under key `url` (default: {n.DEFAULT_DB_SECRET})."),
    )
    service_account: str | None = field(
        default=n.DEFAULT_SERVICE_ACCOUNT,
        metadata=_cli(f"ServiceAccount of the steps (default: {n.DEFAULT_SERVICE_ACCOUNT})."),
    )
    generation_iterations: int = field(
        default=n.DEFAULT_GENERATION_ITERATIONS,
        metadata=_cli(
            f"Lane iterations per Workflow generation (default and most: {n.DEFAULT_GENERATION_ITERATIONS}).",
            range=(1, _LANE_LIMIT),
        ),
    )
    image_pull_policy: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    trial_runner: str | None = field(
        default=None,
        metadata=_cli(
            "kubernetes (default): a Job/CRD per trial; local: run the trial's command inside the step's container.",
            choices=("kubernetes", "local"),
        ),
    )
    """None: the step's default (kubernetes: a Job or CRD per trial); ``local``: the trial's command runs
    inside the trial step's own container, which must then hold the training code (small CPU trials)."""
    checkpoints_claim: str = field(
        default=n.DEFAULT_CHECKPOINTS_CLAIM,
        metadata=_cli(
            "PBT (suggestion_trial_dir): the ReadWriteMany PersistentVolumeClaim of the trials' checkpoints "
            f"(default: {n.DEFAULT_CHECKPOINTS_CLAIM}).",
            metavar="PVC",
        ),
    )
    """The ReadWriteMany PersistentVolumeClaim of PBT checkpoints (experiments with ``suggestion_trial_dir``)."""

    def check(self) -> None:
        if not 1 <= self.generation_iterations <= _LANE_LIMIT:
            raise CompileError(
                f"generation iterations must be between 1 and {_LANE_LIMIT} (Argo stops recursion at depth "
                f"{n.MAX_DEPTH}), got {self.generation_iterations}"
            )
        if not self.image.strip():
            raise CompileError("the step image must not be empty; pass --image REGISTRY/katib-flows:TAG")
        if self.trial_runner not in (None, "kubernetes", "local"):
            raise CompileError(f"the trial runner must be kubernetes or local, got {self.trial_runner!r}")
        if not self.checkpoints_claim.strip():
            raise CompileError("the checkpoints claim must not be empty; pass --checkpoints-claim NAME")
        if not self.db_secret.strip():
            raise CompileError("the store Secret name must not be empty; pass --db-secret NAME")
