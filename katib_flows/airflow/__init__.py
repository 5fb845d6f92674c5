"""Airflow as a second engine: an Experiment compiles into an Airflow DAG whose tasks run ``katib-flows step``.

``compile_dag`` writes one deterministic DAG file per Experiment and ``generic_dag`` the DAG that takes any
Experiment as its run's params (``workflow_templates/airflow/``); both are the code of ``dag_file.py``
with its data block filled in. ``AirflowApi`` triggers and reads DAG runs through Airflow's REST API.
Nothing here imports Airflow: only the DAG files do, inside Airflow.
"""

from katib_flows.airflow._compile import (
    DEFAULT_DB_VARIABLE,
    GENERIC_DAG_ID,
    MAX_SLOTS,
    DagOptions,
    compile_dag,
    dag_id_of,
    generic_dag,
)
from katib_flows.airflow._rest import AirflowApi, DagRun

#: The generic DAG as committed (its drift test compares it with ``generic_dag()``).
TEMPLATE_FILE = "workflow_templates/airflow/katib_flows_experiment.py"

__all__ = [
    "DEFAULT_DB_VARIABLE",
    "GENERIC_DAG_ID",
    "MAX_SLOTS",
    "TEMPLATE_FILE",
    "AirflowApi",
    "DagOptions",
    "DagRun",
    "compile_dag",
    "dag_id_of",
    "generic_dag",
]
