"""The run lifecycle (checks, resume, lock, provenance, outcome, record) loads without
Lightning: the reproduce driver and the report import it, and must stay fast."""

from __future__ import annotations

import subprocess
import sys

# The run around training, and the settings' checks it starts with.
MODULES = [*(f"macformer.lifecycle.{name}" for name in ("resume", "lock", "provenance", "outcome", "record",
                                                          "session", "run_folder", "os_error", "run_folder_callback",
                                                          "run_lifecycle")),
           "macformer.checks"]


def test_lifecycle_does_not_import_lightning():
    code = "; ".join([*(f"import {name}" for name in MODULES),
                      "import sys",
                      "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytorch_lightning', 'lightning')))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
