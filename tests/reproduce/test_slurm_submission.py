"""`--launcher slurm` writes one sbatch job array per time limit, with the plan's
resources, USR2 ahead of the limit and requeueing. No SLURM here: `sbatch` is a stand-in
on PATH that accepts the file and answers as sbatch does (and `scontrol` says accounting
is off); the file is submitit's own. The real cluster: test_slurm_cluster.py."""

import os
import subprocess
import sys


def stand_in_slurm(tmp_path) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text("#!/bin/sh\necho \"$1\" >> \"$(dirname \"$0\")/submitted\"\n"
                                    "echo 'Submitted batch job 4242'\n")
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit checks that it exists
    (bin_dir / "scontrol").write_text("#!/bin/sh\necho 'AccountingStorageType   = accounting_storage/none'\n")
    for name in ("sbatch", "srun", "scontrol"):
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def submit(tmp_path, env, *options: str) -> tuple[str, str]:
    """(the driver's output, the sbatch file it submitted)."""
    command = [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
               "--rows", "softmax", "rmfa-exp-causal", "--data-dir", str(tmp_path / "data"),
               "--results-dir", str(tmp_path / "results"), "--calibration-steps", "0", "--launcher", "slurm",
               *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    [script] = (tmp_path / "bin" / "submitted").read_text().split()
    (tmp_path / "bin" / "submitted").unlink()
    return done.stdout + done.stderr, open(script).read()


def test_slurm_array_from_a_cpu_plan(tmp_path):
    out, text = submit(tmp_path, stand_in_slurm(tmp_path), "--slurm-partition", "cpu", "--threads", "3")
    assert "array of 2 task(s), 1440 min each (2 runs)" in out  # not measured: the long limit
    assert "job ids 4242_0, 4242_1" in out and "squeue --array --jobs 4242" in out
    assert out.count("accounting is disabled") == 1
    for flag in ("#SBATCH --array=0-1%2", "#SBATCH --time=1440", "#SBATCH --partition=cpu",
                 "#SBATCH --cpus-per-task=3", "#SBATCH --ntasks-per-node=1", "#SBATCH --signal=USR2@120",
                 "#SBATCH --open-mode=append"):
        assert flag + "\n" in text, (flag, text)
    assert "gpu" not in text and "--mem" not in text  # a CPU plan asks for no GPU; no peak measured
    assert str(tmp_path / "results" / "submitit") in text


def test_slurm_site_options_reach_the_sbatch_file(tmp_path):
    _, text = submit(tmp_path, stand_in_slurm(tmp_path), "--slurm-partition", "gpu", "--slurm-account", "lab",
                     "--slurm-qos", "high", "--slurm-constraint", "a100|h100", "--slurm-gpus", "a100:1",
                     "--slurm-cpus", "6", "--slurm-mem", "32G", "--slurm-time-cap", "120",
                     "--slurm-setup", "module load cuda/12.4", "--slurm-setup", "conda activate lra",
                     "--slurm-option", "mail-type=END", "--slurm-option", "exclusive")
    for flag in ("#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --qos=high",
                 "#SBATCH --constraint='a100|h100'", "#SBATCH --gres=gpu:a100:1", "#SBATCH --cpus-per-task=6",
                 "#SBATCH --mem=32G", "#SBATCH --time=120", "#SBATCH --mail-type=END", "#SBATCH --exclusive"):
        assert flag + "\n" in text, (flag, text)
    assert "--gpus-per-node" not in text
    setup = text.index("# setup\nmodule load cuda/12.4\nconda activate lra\n")
    assert setup < text.index("srun ")  # before Python


def test_slurm_options_bad_values_are_one_line(tmp_path):
    for option, value in (("--slurm-gpus", "a100"), ("--slurm-cpus", "0"), ("--slurm-mem", "lots"),
                          ("--slurm-time-cap", "-5"), ("--slurm-option", "=x")):
        done = subprocess.run([sys.executable, "-m", "macformer.reproduce", "--launcher", "slurm", option, value],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, (option, done.stderr)
        assert option in done.stderr and "Traceback" not in done.stderr
