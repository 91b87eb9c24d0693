"""`macformer-reproduce`'s mistakes, each one line on stderr and exit 2 before anything runs
(the driver's own `main`, in this process: nothing trains), overrides anywhere on its
command line, and a completed run of other settings that is never deleted unasked."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from macformer.lifecycle.record import write_summary
from macformer.reproduce.__main__ import main
from macformer.reproduce.runner import driver_summary
from macformer.reproduce.slots import cpu_cores
from macformer.reproduce.sweep import SWEEPS, plan

ONE_RUN = ("--profile", "smoke", "--tasks", "listops", "--rows", "softmax", "--dry-run")


def driver(capsys, tmp_path, *argv) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the driver on `argv`, with its folders in tmp_path."""
    try:
        rc = main(["--data-dir", str(tmp_path / "data"), "--results-dir", str(tmp_path / "results"), *argv])
    except SystemExit as stop:  # argparse's errors
        rc = stop.code
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(rc: int, err: str, *words: str) -> None:
    assert rc == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)


# (arguments, words the line must hold): every one refused before a job is planned.
ARGUMENT_MISTAKES = [
    (("--sweep", "nonexistent"), ("'nonexistent'", "ablations, core, cpu, pathx, smoke")),
    (("--sweep", "core,"), ("unknown sweep group ''",)),
    (("--profile", "smoke", "--rows", "softmx"), ("'softmx'", "softmax, rfa")),
    (("--profile", "smoke", "--tasks", "../../etc"), ("'../../etc'", "listops, text")),
    (("--profile", "smoke", "--rows", "rmfa-trigh-noppsbn-causal"), ("add --sweep ablations",)),
    (("--threads", "-1"), ("--threads", ">= 1")),
    (("--threads", "0"), ("--threads", ">= 1")),
    (("--calibration-steps", "-3"), ("--calibration-steps", ">= 0")),
    (("--jobs", "0"), ("--jobs", ">= 1, or auto")),
    (("--jobs-per-gpu", "many"), ("--jobs-per-gpu", "not an integer")),
    (("--pack-minutes", "-5"), ("--pack-minutes", ">= 0")),
    (("--run-timeout", "0"), ("--run-timeout", "above 0")),
    (("--run-timeout", "-5"), ("--run-timeout", "above 0")),
    (("--run-timeout", "inf"), ("--run-timeout", "above 0")),
    (("--progress-every", "-1"), ("--progress-every",)),
    (("--seeds", "0", "-2"), ("--seeds", ">= 0")),
    (("--gpus", ",,"), ("--gpus", "all, none")),
    (("--profile", "cpus"), ("'cpus'", "auto")),
    (("--launcher", "pbs"), ("--launcher", "slurm")),
]


@pytest.mark.parametrize("argv, words", ARGUMENT_MISTAKES, ids=[" ".join(a) for a, _ in ARGUMENT_MISTAKES])
def test_a_bad_argument_is_one_line_and_exit_2(capsys, tmp_path, argv, words):
    rc, out, err = driver(capsys, tmp_path, *argv, "--dry-run")
    assert_one_line(rc, err, *words)
    assert out == "" and not (tmp_path / "results").exists()


def test_more_jobs_than_cores_is_refused(capsys, tmp_path):
    many = str(cpu_cores() + 1)
    rc, out, err = driver(capsys, tmp_path, *ONE_RUN, "--gpus", "none", "--jobs", many)
    assert_one_line(rc, err, f"--jobs {many}", f"use --jobs {cpu_cores()} or fewer")
    assert out == ""


def test_gpus_that_are_not_there_are_refused(capsys, tmp_path):
    rc, _, err = driver(capsys, tmp_path, *ONE_RUN, "--gpus", "7")
    if torch.cuda.is_available() and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a GPU 7")
    assert_one_line(rc, err, "--gpus 7")
    assert ("no CUDA GPU is visible" in err) != torch.cuda.is_available(), err


# Overrides: composed and checked once per job, as macformer-train checks them, before the sweep.
OVERRIDE_MISTAKES = [
    ("task=bogus", ("task=bogus", "choose from image, listops")),
    ("attention.options.bogus=1", ("+attention.options.bogus=1",)),
    ("task.lr=-1", ("task.lr", "-1")),
    ("run.tag=../x", ("run.tag",)),
    ("task.max_steps=0", ("task.max_steps",)),
]


@pytest.mark.parametrize("override, words", OVERRIDE_MISTAKES, ids=[o for o, _ in OVERRIDE_MISTAKES])
def test_a_bad_override_is_one_line_before_any_run(capsys, tmp_path, override, words):
    rc, out, err = driver(capsys, tmp_path, *ONE_RUN, override)
    assert_one_line(rc, err, *words, "(run listops softmax seed0)")
    assert "runs planned" not in out and not (tmp_path / "results").exists()


@pytest.mark.parametrize("argv", [
    ("--seeds", "0", "1", "task.max_steps=600"),
    ("task.max_steps=600", "--seeds", "0", "1"),
    ("--seeds", "0", "task.max_steps=600", "1"),  # an option's values end at the override
    ("--seeds", "0", "1", "--", "task.max_steps=600"),
], ids=["after", "before", "between", "after --"])
def test_overrides_anywhere_on_the_command_line(capsys, tmp_path, argv):
    rc, out, err = driver(capsys, tmp_path, *ONE_RUN, *argv)
    if argv[2] == "task.max_steps=600":  # `1` then stands alone: an override Hydra refuses
        assert_one_line(rc, err, "1")
        return
    assert rc == 0, err
    assert "reproduce: 2 runs planned" in out and out.count("task.max_steps=600") == 2
    assert "seed=0" in out and "seed=1" in out


def completed_run_of_other_settings(tmp_path: Path, status: str = "completed") -> Path:
    """The smoke listops softmax run folder, holding a `status` run of another config_hash."""
    sweep = replace(SWEEPS["smoke"], tasks=("listops",), rows=SWEEPS["smoke"].rows[:1])
    [job] = plan(sweep, (f"paths.data_dir={tmp_path / 'data'}", f"paths.results_dir={tmp_path / 'results'}"))
    summary = {**driver_summary(job, status, None), "config_hash": "0" * 16, "test_accuracy": 0.5}
    write_summary(job.run_dir, summary)
    return Path(job.run_dir)


def test_a_completed_run_of_other_settings_is_kept_unless_forced(capsys, tmp_path):
    run_dir = completed_run_of_other_settings(tmp_path)
    before = (run_dir / "summary.json").read_text()
    rc, out, err = driver(capsys, tmp_path, *ONE_RUN, "task.lr=0.002")
    assert_one_line(rc, err, str(run_dir), "completed run of other settings", "run.tag=NAME", "--force")
    assert "runs planned" not in out
    # Its own folder for the new settings: nothing in the way.
    rc, out, err = driver(capsys, tmp_path, *ONE_RUN, "task.lr=0.002", "run.tag=lr2e-3")
    assert rc == 0 and "1 runs planned" in out, err
    # --force: says which run it replaces (the run itself deletes it when it starts).
    rc, out, err = driver(capsys, tmp_path, *ONE_RUN, "task.lr=0.002", "--force")
    assert rc == 0, err
    assert "--force: replacing listops softmax seed0: its completed run of other settings" in out
    assert str(run_dir) in out
    assert (run_dir / "summary.json").read_text() == before  # a dry run deletes nothing
    assert json.loads(before)["status"] == "completed"


def test_an_unfinished_run_of_other_settings_is_kept_when_it_has_a_checkpoint(capsys, tmp_path):
    run_dir = completed_run_of_other_settings(tmp_path, status="failed")
    rc, out, err = driver(capsys, tmp_path, *ONE_RUN)  # nothing to lose: started afresh
    assert rc == 0 and "1 runs planned" in out, err
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"training so far")
    rc, _, err = driver(capsys, tmp_path, *ONE_RUN)
    assert_one_line(rc, err, "failed run of other settings", "--force")
