"""The browser test's trial: four steps of ``score``, each after ``UI_TRIAL_STEP_SECONDS`` (from the environment,
so the run the page watches is slow and the ``resume`` after it quick)."""

import os
import sys
import time

value = float(sys.argv[1])
pause = float(os.environ.get("UI_TRIAL_STEP_SECONDS", "0"))
for step in range(4):
    time.sleep(pause)
    print(f"step={step} score={value + step * 0.001}", flush=True)
print("last line before exit", flush=True)
