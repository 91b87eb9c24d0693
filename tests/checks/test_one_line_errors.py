"""Every user mistake of macformer-train, macformer-report and macformer-data, as a user
makes it: the real command in a fresh process, then its exit status, exactly one line on
stderr that names the key (or option, or folder), no traceback, and nothing written."""

from __future__ import annotations

import ctypes
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from macformer.config import compose_run

ROOT = Path(__file__).resolve().parents[2]
CUDA = torch.cuda.is_available()
LONG = "n" * 300  # over NAME_MAX (255 bytes) on every common file system


def run(module: str, *args, cwd: Path, preexec_fn=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT / "src")}
    env.pop("HYDRA_FULL_ERROR", None)  # what a user sees
    env.pop("TRITON_INTERPRET", None)  # the attention tests set it for the whole session
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180, env=env, preexec_fn=preexec_fn)


def one_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    return lines[0]


TRAIN = ("profile=smoke", "logger=none", "paths.results_dir=results", "paths.data_dir=data")
# A bad command line of macformer-train, and what its one line must name.
TRAIN_MISTAKES = [
    (["attention.options.path=triton"], ["attention.options.path=triton", "CUDA"]),
    (["kernel=log", "attention.options.ppsbn=false"], ["kernel=log", "attention.options.ppsbn=false",
                                                        "radius of convergence"]),
    (["attention=kernelized", "kernel=inverse", "attention.options.ppsbn=false"],
     ["kernel=inverse", "attention.options.ppsbn=false"]),
    ([f"paths.results_dir={LONG}"], ["paths.results_dir", "NAME_MAX"]),
    ([f"paths.data_dir=d/{LONG}"], ["paths.data_dir", "NAME_MAX"]),
    (["run.tag=" + "t" * 65], ["run.tag"]),
    (["sweep=core"], ["sweep=core", "macformer-reproduce --sweep core"]),
    (["-m", "sweep=core,ablations"], ["sweep=core,ablations", "macformer-reproduce --sweep"]),
    (["trainer=gpu"], ["trainer.accelerator=gpu", "CUDA"]),
    (["task=bogus"], ["task=bogus", "allowed values: image, listops, pathfinder, pathx, retrieval, text"]),
    (["hydra/launcher=nope"], ["hydra/launcher=nope", "allowed values: basic, joblib, slurm"]),
    (["task.lr=-1"], ["task.lr must be a positive finite number, got -1"]),
]


def _gpu_setting_on_a_gpu(overrides) -> bool:
    return CUDA and any(o in ("trainer=gpu", "attention.options.path=triton") for o in overrides)


@pytest.mark.parametrize("overrides, names", TRAIN_MISTAKES)
def test_macformer_train_checks(tmp_path, overrides, names, monkeypatch):
    """The command line's check in this process (fast): the line names the keys."""
    from macformer.checks.command_line import command_line_problem

    if _gpu_setting_on_a_gpu(overrides):
        pytest.skip("a GPU setting is fine on a machine with CUDA")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)  # set by the attention tests: not a user's
    line = command_line_problem([*TRAIN, *overrides], compose_run)
    assert line is not None and "\n" not in line and all(name in line for name in names), line
    assert list(tmp_path.iterdir()) == []


def test_a_cluster_launcher_leaves_the_gpu_checks_to_its_jobs(tmp_path, monkeypatch):
    from macformer.checks.command_line import command_line_problem

    monkeypatch.chdir(tmp_path)
    assert command_line_problem(["-m", "hydra/launcher=slurm", *TRAIN, "trainer=gpu"], compose_run) is None


@pytest.mark.slow
@pytest.mark.parametrize("overrides, names", TRAIN_MISTAKES)
def test_macformer_train(tmp_path, overrides, names):
    """The real command: exit status 1, exactly one line, no traceback, nothing made."""
    if _gpu_setting_on_a_gpu(overrides):
        pytest.skip("a GPU setting is fine on a machine with CUDA")
    done = run("macformer.train", *TRAIN, *overrides, cwd=tmp_path)
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith("error: ") and all(name in line for name in names), line
    assert list(tmp_path.iterdir()) == []  # no run folder, no data folder


def test_macformer_train_help_says_where_sweep_groups_run(tmp_path):
    done = run("macformer.train", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "sweep: ablations, core" in done.stdout
    assert "macformer-reproduce --sweep NAME" in done.stdout


def _summaries(runs: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "report"))
    from report_summaries import summary, write_summaries

    return write_summaries(runs, {"cpu/listops/softmax/seed0": summary()})


def _read_only_to_root():
    """Root ignores file modes: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the child's
    bounding set, so a folder without write permission is read-only to it too."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):
            if libc.prctl(24, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _read_only(*folders: Path) -> None:
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.mark.slow
def test_macformer_report_into_a_read_only_folder_and_from_one(tmp_path):
    runs = _summaries(tmp_path / "runs")
    locked = tmp_path / "locked"
    locked.mkdir()
    _read_only(runs, locked)
    try:
        refused = run("macformer.report", "--runs", str(runs), "--out", str(locked), cwd=tmp_path,
                      preexec_fn=_read_only_to_root)
        elsewhere = run("macformer.report", "--runs", str(runs), "--out", str(tmp_path / "out"),
                        cwd=tmp_path, preexec_fn=_read_only_to_root)
    finally:
        for path in [tmp_path, *tmp_path.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert refused.returncode == 2
    assert one_line(refused) == (
        f"report: cannot write {locked / 'cpu'}: Permission denied; pass --out a writable folder (the runs "
        f"under {runs} are only read, so a read-only runs folder can be reported elsewhere)")
    assert list(locked.iterdir()) == []
    # Reading needs no lock and no write: the read-only runs are reported elsewhere.
    assert elsewhere.returncode == 0, elsewhere.stderr[-3000:]
    assert (tmp_path / "out" / "cpu" / "accuracy.md").is_file()


@pytest.mark.parametrize("make, args, line", [
    (None, ["--format", "html"], "macformer-report: error: argument --format: invalid choice: 'html' "
                                 "(choose from 'markdown', 'latex') (see macformer-report --help)"),
    ("file", ["--out", "{tmp}/a-file"], "report: cannot write {tmp}/a-file/cpu/runs/listops/softmax/seed0: Not a directory; pass --out "
                                        "a writable folder (the runs under {tmp}/runs are only read, so a "
                                        "read-only runs folder can be reported elsewhere)"),
    ("file", ["--runs", "{tmp}/a-file"], "report: runs folder {tmp}/a-file is not a folder; nothing written"),
])
def test_macformer_report(tmp_path, make, args, line, capsys):
    """In this process (the command's own main; its import is what costs seconds)."""
    from macformer.report.__main__ import main

    _summaries(tmp_path / "runs")
    if make == "file":
        (tmp_path / "a-file").write_text("")
    args = [a.format(tmp=tmp_path) for a in args]
    try:
        code = main(["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out"), *args])
    except SystemExit as exit:  # argparse's errors
        code = exit.code
    assert code == 2
    assert capsys.readouterr().err == line.format(tmp=tmp_path) + "\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, line", [
    (["--listops-train", "-5"], "macformer-data: error: argument --listops-train: must be a positive "
                                "integer, got '-5' (see macformer-data --help)"),
    (["--pathfinder-count", "0"], "macformer-data: error: argument --pathfinder-count: must be a positive "
                                  "integer, got '0' (see macformer-data --help)"),
    (["--seed", "-1"], "macformer-data: error: argument --seed: must be an integer in [0, 4294967295], "
                       "got '-1' (see macformer-data --help)"),
    (["--only", "bogus"], "macformer-data: error: argument --only: invalid choice: 'bogus' (choose from "
                          "'listops', 'text', 'retrieval', 'image', 'pathfinder', 'pathx') (see macformer-data --help)"),
    (["--data-dir", "{tmp}/a-file"], "macformer-data: error: cannot write {tmp}/a-file/lra_release/listops-1000: "
                                     "Not a directory; --data-dir {tmp}/a-file must be a writable folder with "
                                     "room for the data"),
])
def test_macformer_data(tmp_path, args, line):
    (tmp_path / "a-file").write_text("")
    args = [a.format(tmp=tmp_path) for a in args]
    done = run("macformer.data.prepare", "--data-dir", str(tmp_path / "data"), "--offline", "--no-process",
               "--only", "listops", "--listops-train", "8", "--listops-val", "4", "--listops-test", "4", *args,
               cwd=tmp_path)
    assert done.returncode in (1, 2)
    assert one_line(done) == line.format(tmp=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
