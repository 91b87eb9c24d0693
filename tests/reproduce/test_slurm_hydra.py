"""`macformer-train -m hydra/launcher=slurm` against the one-node SLURM cluster
(scripts/slurm-local.sh): a two-job multirun, and DDP with two SLURM tasks (gloo on the
CPU) against one process with the same global batch."""

import json
import subprocess
import sys

import pytest
import torch
from reproduce_helpers import SAME

pytestmark = pytest.mark.slow
RUN = ("runs", "smoke", "listops", "{}", "seed0")


def train_command(results, *overrides: str, multirun: bool = True) -> list[str]:
    return [sys.executable, "-m", "macformer.train", *(["-m", "hydra/launcher=slurm"] if multirun else []),
            "profile=smoke", "task=listops", f"paths.results_dir={results}", *overrides]


def summary(results, attention="softmax") -> dict:
    return json.loads((results / "/".join(RUN).format(attention) / "summary.json").read_text())


def test_multirun_on_the_cpu_partition(slurm_cluster, one_after_the_other, tmp_path):
    data = one_after_the_other[0] / "data"
    done = subprocess.run(train_command(tmp_path, "attention=softmax,rmfa",
                                        f"paths.data_dir={data}", "hydra.launcher.partition=cpu"),
                          capture_output=True, text=True, env=slurm_cluster, timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert out.count("accounting is disabled") == 1 and "Bypassing" not in out
    assert summary(tmp_path)["status"] == summary(tmp_path, "rmfa-exp-causal")["status"] == "completed"
    [script] = (tmp_path / "runs" / "smoke" / ".submitit").glob("*/*_submission.sh")
    text = script.read_text()
    assert "#SBATCH --array=0-1%2" in text and "gpu" not in text  # a CPU trainer asks for no GPU


def test_multirun_bad_partition_is_one_line(slurm_cluster, tmp_path):
    done = subprocess.run(train_command(tmp_path, "attention=softmax,rmfa",
                                        "hydra.launcher.partition=nope"),
                          capture_output=True, text=True, env=slurm_cluster, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert ("macformer-train: SLURM rejected the job: sbatch: invalid partition specified: nope; "
            "Batch job submission failed: Invalid partition name specified") in done.stderr.splitlines()


def test_ddp_two_tasks_match_one_process_of_the_same_global_batch(slurm_cluster, one_after_the_other, tmp_path):
    """Lightning splits each global batch of the run's own sampler across the two ranks and
    averages their gradients, so with dropout off the two runs differ only in the order
    floats are summed (~1e-7 per weight after 200 steps, measured): the weights agree to
    1e-5, and the accuracies to one test example (a prediction on the edge could flip)."""
    same = (f"paths.data_dir={one_after_the_other[0] / 'data'}", "task.max_steps=200", "task.eval_every=50",
            "attention=softmax", "model.encoder.dropout=0", "attention.options.dropout=0")
    one = subprocess.Popen(train_command(tmp_path / "one", *same, "trainer=cpu", "task.batch_size=16",
                                         multirun=False),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=slurm_cluster)
    ddp = subprocess.run(train_command(tmp_path / "ddp", *same, "trainer=ddp",
                                       "trainer.accelerator=cpu", "task.batch_size=8",
                                       "hydra.launcher.partition=cpu"),
                         capture_output=True, text=True, env=slurm_cluster, timeout=600)
    one_out = one.communicate(timeout=600)[0]
    assert ddp.returncode == 0 and one.returncode == 0, ddp.stdout + ddp.stderr + one_out
    [script] = (tmp_path / "ddp" / "runs" / "smoke" / ".submitit").glob("*/*_submission.sh")
    assert "#SBATCH --ntasks-per-node=2\n" in script.read_text()
    alone, split = summary(tmp_path / "one"), summary(tmp_path / "ddp")
    assert split.keys() == alone.keys() and split["device"].endswith("× 2 processes")
    assert split["status"] == alone["status"] == "completed" and split["steps"] == alone["steps"] == 200
    for key in ("test_accuracy", "val_accuracy"):
        assert abs(split[key] - alone[key]) <= 1 / alone["test_examples"] + 1e-9, (key, split, alone)
    weights = [torch.load(d / "/".join(RUN).format("softmax") / "checkpoints" / "last.ckpt", map_location="cpu",
                          weights_only=False)["state_dict"] for d in (tmp_path / "one", tmp_path / "ddp")]
    assert max((weights[0][k] - weights[1][k]).abs().max().item() for k in weights[0]) < 1e-5
    assert set(SAME) <= split.keys()
