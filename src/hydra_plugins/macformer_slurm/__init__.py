"""Hydra plugin: `hydra/launcher=slurm` (conf/hydra/launcher/slurm.yaml) is
hydra-submitit-launcher's SLURM launcher with three changes (Hydra only loads plugins
from the `hydra_plugins` namespace package):
- GPUs from the trainer, not a constant: with `gpus_per_node` and `gres` unset, a GPU
  trainer (trainer=gpu) asks for trainer.devices GPUs, any other trainer for none;
- job states from squeue where the cluster has no accounting (no "Bypassing sacct error"
  warning on every poll);
- a job sbatch rejects (partition, GRES, limits) is sbatch's message in one line, exit 2.
"""

import sys

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
from submitit.core.utils import FailedJobError

from macformer.reproduce.slurm_watch import (
    REJECTED_EXIT,
    quiet_sbatch,
    sbatch_message,
    use_queue_when_no_accounting,
)


class MacformerSlurmLauncher(SlurmLauncher):
    def launch(self, job_overrides, initial_job_idx):
        trainer = self.config.trainer
        if self.params.get("gpus_per_node") is None and not self.params.get("gres") \
                and str(trainer.accelerator) in ("gpu", "cuda"):
            self.params["gpus_per_node"] = int(trainer.devices) if str(trainer.devices).isdigit() else 1
        use_queue_when_no_accounting()
        try:
            with quiet_sbatch():
                return super().launch(job_overrides, initial_job_idx)
        except FailedJobError as error:
            print(f"macformer-train: SLURM rejected the job: {sbatch_message(error)}", file=sys.stderr)
            raise SystemExit(REJECTED_EXIT) from None
