"""The sweeper of `macformer-train -m` (conf/hydra/sweeper/lra.yaml, hydra_plugins.
macformer_sweeper): Hydra's cartesian product minus the jobs that differ only in a kernel
their attention does not have. A whole multirun through it: tests/training/test_cli.py."""

import pytest
from hydra import compose, initialize_config_dir

from hydra_plugins.macformer_sweeper.dedupe import dedupe_jobs
from macformer.conf_dir import CONFIG_DIR


@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=slurm"]], ids=["basic", "slurm"])
def test_multiruns_use_the_dedup_sweeper(launcher):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=launcher, return_hydra_config=True)
    assert cfg.hydra.sweeper._target_ == "hydra_plugins.macformer_sweeper.DedupSweeper"


def test_sweep_drops_kernel_duplicates():
    jobs = [[f"attention={a}", f"kernel={k}"] for a in ("softmax", "rfa", "rmfa") for k in ("exp", "log")]
    assert dedupe_jobs(jobs, "rmfa") == [["attention=softmax"], ["attention=rfa"],
                                         ["attention=rmfa", "kernel=exp"], ["attention=rmfa", "kernel=log"]]
