"""The labels katib-flows puts on the Kubernetes objects it creates: Workflows and the trials' objects.

Read by the Argo compiler and generation hand-off (``argo/_names.py`` re-exports them) and by the
Kubernetes trial runner, so a Workflow and the Job it created carry the same ``experiment`` label.
"""

L_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "katib-flows"
L_EXPERIMENT = "katib-flows.io/experiment"
L_TRIAL = "katib-flows.io/trial"
