"""katib-flows: Katib v1beta1 hyperparameter tuning, locally or on Argo Workflows."""

__version__ = "0.1.0"
