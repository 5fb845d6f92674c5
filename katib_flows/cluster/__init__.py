"""The Kubernetes adapter shared by the Argo steps and the Kubernetes trial runner.

``_client`` is the only module of katib-flows that imports ``kubernetes`` (an import-linter contract says
so); ``_status`` maps an HTTP status to a typed ``ClusterError`` for the Kubernetes API and Argo Server
alike; ``_labels`` names the labels on the objects katib-flows creates; ``_urls`` checks a server's address
(Argo Server's, Airflow's). Importing this package imports
neither ``kubernetes`` nor anything heavy.
"""

from katib_flows.cluster._client import api_call, kube_client
from katib_flows.cluster._labels import L_EXPERIMENT, L_MANAGED_BY, L_TRIAL, MANAGED_BY
from katib_flows.cluster._status import INVALID_STATUSES, UNAUTHORIZED_STATUSES, Access, status_error
from katib_flows.cluster._urls import Address, http_address

__all__ = [
    "INVALID_STATUSES",
    "L_EXPERIMENT",
    "L_MANAGED_BY",
    "L_TRIAL",
    "MANAGED_BY",
    "UNAUTHORIZED_STATUSES",
    "Access",
    "Address",
    "api_call",
    "http_address",
    "kube_client",
    "status_error",
]
