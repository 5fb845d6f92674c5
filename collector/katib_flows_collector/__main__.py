"""``python -m katib_flows_collector watch ...``: the File and TensorFlowEvent collector sidecar."""

import sys

from katib_flows_collector._watch import main

sys.exit(main())
