import os
import re
import subprocess
from pathlib import Path

import pytest
from reproduce_helpers import ENV, reproduce

SLURM_LOCAL = Path(__file__).resolve().parents[2] / "scripts" / "slurm-local.sh"


@pytest.fixture(scope="session")
def one_after_the_other(tmp_path_factory):
    """The small sweep run one job at a time (with its report and calibration cache): the
    reference the other ways of running it are held to. (root folder, driver output)"""
    root = tmp_path_factory.mktemp("jobs1")
    out = reproduce(root / "data", root / "results", "--jobs", "1")
    return root, out


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """The environment (SLURM_CONF) of scripts/slurm-local.sh's one-node cluster: the one
    already up (CI's .ci/run starts it), else one started here with its config, state and
    logs under the tests' temp dir, and stopped after. Skipped, with the script's own
    reason, only where it cannot start (not root, no apt-get, no packages)."""
    status = subprocess.run([SLURM_LOCAL, "status"], capture_output=True, text=True, env=os.environ)
    started = None
    if status.returncode == 0:
        output = status.stdout
    else:
        started = {**os.environ, "SLURM_LOCAL_DIR": str(tmp_path_factory.mktemp("slurm-local"))}
        up = subprocess.run([SLURM_LOCAL, "up"], capture_output=True, text=True, env=started, timeout=900)
        if up.returncode != 0:
            pytest.skip((up.stderr.strip().splitlines() or ["slurm-local.sh up failed"])[-1])
        output = up.stdout
    conf = re.search(r"export SLURM_CONF=(\S+)", output).group(1)
    yield {**ENV, "SLURM_CONF": conf}
    if started is not None:
        subprocess.run([SLURM_LOCAL, "down"], capture_output=True, env=started, timeout=120)
