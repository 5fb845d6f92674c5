"""PBT checkpoint directories: each trial its own, filled from its parent's, before the trial starts.

Called by both runners: ``LocalTrial.start`` (the local lanes and the Argo step's local mode) before the
command is built, ``KubeTrial.start`` on the claim the trial's pod will mount. An experiment gets
checkpoint directories when its algorithm has the ``suggestion_trial_dir`` setting (Katib's rule; ``pbt``
requires it). Katib mounts its PBT volume on the trial's primary container at that path with ``subPath
<experiment>/<trial>``, after its suggestion service copied the parent trial's directory into the
child's, so a template passes a fixed path (``--checkpoint=/var/log/katib/checkpoints/`` in Katib's
``simple-pbt.yaml``) and every trial finds its own checkpoint there. Here, with the same layout under
``root`` (``paths.checkpoints_dir()``, the local data folder unless ``KATIB_FLOWS_CHECKPOINTS`` says
otherwise):

- each trial gets ``<root>/<namespace>/<experiment>/<trial>/`` (``katib_flows_suggestion.checkpoint_dirs``),
  created afresh each time the trial starts, as a copy of its parent's directory when the trial has a
  ``pbt.suggestion.katib.kubeflow.org/parent`` label (the parent has finished, so its directory is
  complete; a parent that wrote nothing gives an empty directory). The copy is made beside the target and
  renamed into place, so a trial never sees half a copy;
- a process cannot be given a mount, so the rendered command sees the directory wherever the template
  wrote the ``suggestion_trial_dir`` path (``local._command.point_to``), and in
  ``$KATIB_TRIAL_CHECKPOINT_DIR``; a pod mounts it from the claim at that path (``kube._pod``).

On a cluster ``root`` must be a volume shared by every pod that starts or runs a trial (ReadWriteMany,
as Katib's PBT volume): a directory inside one pod is gone when the next trial starts elsewhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from katib_flows_suggestion import checkpoint_dirs

from katib_flows.errors import TrialCommandError
from katib_flows.paths import checkpoints_dir
from katib_flows.spec import Experiment
from katib_flows.store import TrialRecord

#: The environment variable that tells a trial its checkpoint directory.
CHECKPOINT_DIR_ENV = "KATIB_TRIAL_CHECKPOINT_DIR"


def prepare_checkpoint(experiment: Experiment, root: Path | None, namespace: str, trial: TrialRecord) -> Path | None:
    """Create ``trial``'s checkpoint directory under ``root`` (a copy of its parent's); None if it has none.

    ``root`` defaults to ``paths.checkpoints_dir()``.
    """
    if experiment.checkpoint_path is None:
        return None
    dirs = checkpoint_dirs((root or checkpoints_dir()) / namespace, trial.experiment, trial.name, trial.labels)
    own, parent = Path(dirs.own), Path(dirs.parent) if dirs.parent is not None else None
    staging = own.with_name(own.name + ".partial")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        if parent is not None and parent.is_dir():
            shutil.copytree(parent, staging, symlinks=True)
        else:
            staging.mkdir(parents=True)
        shutil.rmtree(own, ignore_errors=True)  # a trial that starts again starts from its parent again
        staging.rename(own)
    except OSError as exc:
        source = f" from its parent's {parent}" if parent is not None else ""
        raise TrialCommandError(
            f"trial {trial.name}: cannot prepare its checkpoint directory {own}{source}: {exc}; "
            f"check that the folder is writable and has space, or point KATIB_FLOWS_CHECKPOINTS elsewhere"
        ) from exc
    return own
