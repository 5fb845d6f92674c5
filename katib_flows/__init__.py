"""katib-flows: Katib v1beta1 hyperparameter tuning, locally or on Argo Workflows.

``report_metrics`` is the collector package's push API, re-exported for training code that already
depends on katib-flows; images that only report metrics need just ``katib-flows-collector``.
"""

from katib_flows_collector import report_metrics

__version__ = "0.1.0"

__all__ = ["__version__", "report_metrics"]
