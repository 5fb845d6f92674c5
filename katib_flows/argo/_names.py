"""The names the compiled Workflow and the ``katib-flows step`` verbs agree on.

One table, read by the compiler (which writes them into templates), the step verbs (which read the
parameters and write the outputs) and the generation hand-off (which copies a Workflow). Changing a
name here changes both sides at once; the committed ``workflow_templates/`` drift test catches the rest.
"""

from __future__ import annotations

from katib_flows import __version__
from katib_flows.cluster import L_EXPERIMENT as L_EXPERIMENT
from katib_flows.cluster import L_MANAGED_BY as L_MANAGED_BY
from katib_flows.cluster import MANAGED_BY as MANAGED_BY
from katib_flows.paths import DB_ENV as DB_ENV

#: The step image; its entrypoint is ``katib-flows`` (see the project's Dockerfile).
DEFAULT_IMAGE = f"ghcr.io/katib-flows/katib-flows:{__version__}"
#: The Secret holding the store URL under key ``url`` (``manifests/`` creates it).
DEFAULT_DB_SECRET = "katib-flows-db"
DB_SECRET_KEY = "url"
#: The ServiceAccount the steps run as (each tenant overlay in ``manifests/`` creates it).
DEFAULT_SERVICE_ACCOUNT = "katib-flows-workflow"

#: Argo stops a Workflow whose templates nest 100 deep. The entry template is depth 1, iteration i of a lane
#: is depth 2 + i (the lane calls itself from its last step group) and its steps one deeper, so 90 iterations
#: reach depth 92 at most; a lane that would go further ends and the next generation takes over.
MAX_DEPTH = 100
DEFAULT_GENERATION_ITERATIONS = 90

#: Argo keeps a Workflow's node status inside the object: past 1 MiB (``MAX_WORKFLOW_SIZE``) it gzips the
#: nodes, and past 1 MiB gzipped the Workflow errors "workflow is longer than maximum allowed size" unless the
#: controller offloads node status to its database (``workflow/packer``). One lane iteration adds 8 nodes (3
#: step groups, 2 retry nodes and their pods, the next iteration) whose names grow with the iteration, so a
#: generation holds at most this many lane iterations in all: iterations per lane shrink as lanes grow. The
#: conformance harness measures the status Argo would store; this bound keeps it far below the limit.
MAX_LANE_ITERATIONS = 360
#: The widest experiment (``parallelTrialCount``) a Workflow runs: one iteration per lane per generation.
MAX_LANES = MAX_LANE_ITERATIONS
#: The Experiment travels as a Workflow argument, so it counts against the same 1 MiB as the node status
#: (which the harness measures at up to ~135 KB gzipped for a full generation): a quarter of it, at most.
MAX_SPEC_BYTES = 256 * 1024


def spec_too_large(size: int) -> str | None:
    """Why an Experiment of ``size`` bytes (as JSON) cannot run as a Workflow, or None when it can."""
    if size <= MAX_SPEC_BYTES:
        return None
    return (
        f"the Experiment is {size / 1024:.0f} KiB as JSON, above the {MAX_SPEC_BYTES // 1024} KiB a Workflow "
        "argument may take (Argo stores it in the Workflow object, whose limit is 1 MiB with the node status); "
        "move large values (long commands, inline files) into the trial's image or a ConfigMap"
    )


def iterations_for(lanes: int, limit: int) -> int:
    """How many iterations each of ``lanes`` lanes runs in one generation (at most ``limit``, at least 1)."""
    return max(1, min(limit, MAX_LANE_ITERATIONS // max(lanes, 1)))


# Workflow parameters (``{{workflow.parameters.X}}``).
P_EXPERIMENT = "experiment"
P_SPEC = "experiment-spec"
P_GENERATION = "generation"

# Template names.
T_MAIN, T_INIT, T_LANE, T_SUGGEST, T_TRIAL, T_FINISH = "main", "init", "lane", "suggest", "trial", "finish"
#: The lane's recursive step: one letter, since every node of iteration i carries ``[2].n`` i times in its name.
S_AGAIN = "n"

# Output parameters and the files the steps write them to (one folder per container).
OUTPUTS_DIR = "/tmp/katib-flows"
O_LANES = "lanes"
O_ITERATIONS = "iterations"  # iterations per lane in this generation (iterations_for)
O_BUDGET_LEFT = "budget-left"  # trials the budget has left, or "none" without maxTrialCount
O_STATUS = "status"  # trial | wait | done
O_TRIAL = "trial"  # the claimed trial's name, or "none"
O_NEXT = "next"  # continue | stop: whether the lane calls itself again
O_NEXT_ITERATION = "next-iteration"
O_CONDITION = "condition"
O_NEXT_WORKFLOW = "next-workflow"  # the next generation's Workflow name, or "none"
O_MORE = "more"  # "true" when the experiment needs more trials and this generation made progress, else "false"

STATUS_TRIAL, STATUS_WAIT, STATUS_DONE = "trial", "wait", "done"
NEXT_CONTINUE, NEXT_STOP = "continue", "stop"
NONE = "none"

#: How the trial step runs a trial: ``kubernetes`` (the default) or ``local`` (in the step's container).
TRIAL_RUNNER_ENV = "KATIB_FLOWS_TRIAL_RUNNER"
#: The step image, told to the trial step: the metrics collector sidecar of File and TensorFlowEvent runs it.
IMAGE_ENV = "KATIB_FLOWS_IMAGE"
#: PBT checkpoints (``suggestion_trial_dir``) on a cluster: the ReadWriteMany PersistentVolumeClaim that the
#: trial step mounts at CHECKPOINTS_MOUNT (``KATIB_FLOWS_CHECKPOINTS`` there) and the trials mount sub-paths of.
CHECKPOINTS_CLAIM_ENV = "KATIB_FLOWS_CHECKPOINTS_CLAIM"
DEFAULT_CHECKPOINTS_CLAIM = "katib-flows-checkpoints"
CHECKPOINTS_MOUNT = "/var/lib/katib-flows/checkpoints"

# Labels and annotations (those on every object katib-flows creates come from katib_flows.cluster).
L_GENERATION = "katib-flows.io/generation"
L_ROOT = "katib-flows.io/root"


def runner_of(workflow: str, lane: int | str, iteration: int | str) -> str:
    """The ``runner`` a suggest step stamps on the trial it claims: one per (Workflow, lane, iteration).

    A retried suggest step finds its own trial again by this value instead of claiming a second one, and
    the exit step finds every trial of its generation by the ``argo:<workflow>/`` prefix.
    """
    return f"{runner_prefix(workflow)}{lane}/{iteration}"


def runner_prefix(workflow: str) -> str:
    return f"argo:{workflow}/"


def workflow_of_runner(runner: str | None) -> str | None:
    """The Workflow named in a runner that ``runner_of`` made; None for any other runner."""
    if not runner or not runner.startswith("argo:"):
        return None
    return runner.removeprefix("argo:").split("/", 1)[0] or None


#: A Workflow's ``status.phase`` while it runs (an empty phase: the controller has not seen it yet).
RUNNING_PHASES = frozenset({"", "Pending", "Running"})
