"""The Kubernetes trial runner: a trial as a Job, a Kubeflow training job or any CRD, followed to its end.

Used by ``katib-flows step trial`` in the Workflow's pods. The only package besides the Argo adapter that
imports the ``kubernetes`` client (in ``_api``, inside functions, so importing this package is cheap).
"""

from katib_flows.kube._api import InvalidObjectError, KubeApi
from katib_flows.kube._conditions import Condition, ConditionError, Outcome
from katib_flows.kube._logs import LogFollower, infrastructure_fault
from katib_flows.kube._trial import JOB_NAME_LABELS, KubeTrial, Owner, PodExtras, Timing

__all__ = [
    "JOB_NAME_LABELS",
    "Condition",
    "ConditionError",
    "InvalidObjectError",
    "KubeApi",
    "KubeTrial",
    "LogFollower",
    "Outcome",
    "Owner",
    "PodExtras",
    "Timing",
    "infrastructure_fault",
]
