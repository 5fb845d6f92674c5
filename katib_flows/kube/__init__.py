"""The Kubernetes trial runner: a trial as a Job, a Kubeflow training job or any CRD, followed to its end.

``KubeTrial`` is a ``katib_flows.trial.TrialRunner``, the sibling of the local runner (``katib_flows.local``);
neither imports the other. Used by ``katib-flows step trial`` in the Workflow's pods. It reaches the API
server through ``katib_flows.cluster`` (the one module importing ``kubernetes``), so importing this
package is cheap.
"""

from katib_flows.errors import InvalidObjectError
from katib_flows.kube._api import KubeApi
from katib_flows.kube._conditions import Condition, ConditionError, ConditionMet
from katib_flows.kube._logs import LogFollower, infrastructure_fault
from katib_flows.kube._trial import JOB_NAME_LABELS, KubeTrial, Owner, PodExtras, Timing

__all__ = [
    "JOB_NAME_LABELS",
    "Condition",
    "ConditionError",
    "ConditionMet",
    "InvalidObjectError",
    "KubeApi",
    "KubeTrial",
    "LogFollower",
    "Owner",
    "PodExtras",
    "Timing",
    "infrastructure_fault",
]
