"""`--launcher slurm` writes one sbatch job array per time limit, with the plan's
resources, USR2 ahead of the limit and requeueing. No SLURM here: `sbatch` is a stand-in
on PATH that accepts the file and answers as sbatch does; the file is submitit's own."""

import os
import subprocess
import sys


def test_slurm_array_from_the_plan(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text("#!/bin/sh\necho \"$1\" >> \"$(dirname \"$0\")/submitted\"\n"
                                    "echo 'Submitted batch job 4242'\n")
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit checks that it exists
    for name in ("sbatch", "srun"):
        (bin_dir / name).chmod(0o755)
    results = tmp_path / "results"
    command = [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
               "--rows", "softmax", "rmfa-exp-causal", "--data-dir", str(tmp_path / "data"),
               "--results-dir", str(results), "--calibration-steps", "0", "--launcher", "slurm",
               "--slurm-partition", "gpu"]
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "array of 2 task(s), 1440 min each (2 runs)" in done.stdout  # not measured: the long limit
    assert "job ids 4242_0, 4242_1" in done.stdout
    [script] = (bin_dir / "submitted").read_text().split()
    text = open(script).read()
    for flag in ("#SBATCH --array=0-1%2", "#SBATCH --time=1440", "#SBATCH --partition=gpu",
                 "#SBATCH --gpus-per-node=1", "#SBATCH --signal=USR2@120", "#SBATCH --open-mode=append"):
        assert flag in text, (flag, text)
    assert str(results / "submitit") in text
