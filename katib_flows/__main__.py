"""``python -m katib_flows``: the same as the ``katib-flows`` command."""

from katib_flows.cli import run

run()
