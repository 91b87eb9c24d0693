"""`--launcher slurm` writes one sbatch job array per time limit, with the plan's
resources, USR2 ahead of the limit and requeueing, against the one-node cluster of
scripts/slurm-local.sh. The jobs are submitted held (`--slurm-option hold`), so nothing
runs: the test reads the sbatch file submitit wrote and what SLURM itself made of it
(`scontrol show job`), then cancels them. Runs that do run: test_slurm_cluster.py."""

import re
import subprocess
import sys

import pytest


def submit(tmp_path, env, *options: str) -> tuple[str, str, str]:
    """(the driver's output, the sbatch file it submitted, SLURM's record of the job), the
    job held and cancelled afterwards."""
    command = [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
               "--rows", "softmax", "rmfa-exp-causal", "--data-dir", str(tmp_path / "data"),
               "--results-dir", str(tmp_path / "results"), "--calibration-steps", "0", "--launcher", "slurm",
               "--slurm-option", "hold", *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    job = re.search(r"job ids (\d+)_0", done.stdout).group(1)
    try:
        script = (tmp_path / "results" / "submitit" / job / f"{job}_submission.sh").read_text()
        record = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True,
                                env=env, check=True).stdout
    finally:
        subprocess.run(["scancel", job], env=env, check=True)
    return done.stdout + done.stderr, script, record


@pytest.mark.slow
def test_slurm_array_from_a_cpu_plan(tmp_path, slurm_cluster):
    out, text, record = submit(tmp_path, slurm_cluster, "--slurm-partition", "cpu", "--threads", "3")
    assert "array of 2 task(s), 1440 min each (2 runs)" in out  # not measured: the long limit
    assert re.search(r"job ids (\d+)_0, \1_1", out) and "squeue --array --jobs" in out
    assert out.count("accounting is disabled") == 1
    for flag in ("#SBATCH --array=0-1%2", "#SBATCH --time=1440", "#SBATCH --partition=cpu",
                 "#SBATCH --cpus-per-task=3", "#SBATCH --ntasks-per-node=1", "#SBATCH --signal=USR2@120",
                 "#SBATCH --open-mode=append"):
        assert flag + "\n" in text, (flag, text)
    assert "gpu" not in text and "--mem" not in text  # a CPU plan asks for no GPU; no peak measured
    assert str(tmp_path / "results" / "submitit") in text
    for field in ("Partition=cpu", "TimeLimit=1-00:00:00", "MinCPUsNode=3", "Requeue=1"):
        assert field in record, (field, record)
    assert "gres/gpu" not in record


@pytest.mark.slow
def test_slurm_site_options_reach_the_sbatch_file(tmp_path, slurm_cluster):
    _, text, record = submit(tmp_path, slurm_cluster, "--slurm-partition", "gpu", "--slurm-account", "lab",
                             "--slurm-qos", "high", "--slurm-constraint", "a100", "--slurm-gpus", "a100:1",
                             "--slurm-cpus", "2", "--slurm-mem", "1G", "--slurm-time-cap", "120",
                             "--slurm-setup", "module load cuda/12.4", "--slurm-setup", "conda activate lra",
                             "--slurm-option", "mail-type=END", "--slurm-option", "exclusive")
    for flag in ("#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --qos=high",
                 "#SBATCH --constraint=a100", "#SBATCH --gres=gpu:a100:1", "#SBATCH --cpus-per-task=2",
                 "#SBATCH --mem=1G", "#SBATCH --time=120", "#SBATCH --mail-type=END", "#SBATCH --exclusive"):
        assert flag + "\n" in text, (flag, text)
    assert "--gpus-per-node" not in text
    setup = text.index("# setup\nmodule load cuda/12.4\nconda activate lra\n")
    assert setup < text.index("srun ")  # before Python
    # Without accounting SLURM keeps no QOS (its record says QOS=(null)): the file says it.
    for field in ("Partition=gpu", "Account=lab", "Features=a100", "TimeLimit=02:00:00",
                  "MinMemoryNode=1G", "MinCPUsNode=2", "TresPerNode=gres:gpu:a100:1", "MailType=END", "OverSubscribe=NO"):
        assert field in record, (field, record)


def test_slurm_options_bad_values_are_one_line(tmp_path):
    for option, value in (("--slurm-gpus", "a100"), ("--slurm-cpus", "0"), ("--slurm-mem", "lots"),
                          ("--slurm-time-cap", "-5"), ("--slurm-option", "=x")):
        done = subprocess.run([sys.executable, "-m", "macformer.reproduce", "--launcher", "slurm", option, value],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, (option, done.stderr)
        assert option in done.stderr and "Traceback" not in done.stderr
