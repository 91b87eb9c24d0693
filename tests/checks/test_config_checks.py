"""Every setting is checked before training, in one place, with a one-line error that
names the key, the value and what is allowed. Composing a config is cheap; nothing here
trains."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from macformer.attention import attention_options, attentions
from macformer.checks import check_config
from macformer.checks.attention import option_rules
from macformer.checks.errors import ConfigError
from macformer.config import compose_run
from macformer.train import train

ROOT = Path(__file__).resolve().parents[2]
BASE = ("profile=smoke", "logger=none")


CUDA = torch.cuda.is_available()


def check(*overrides, results="unused-results", on_this_machine=True):
    args = [*BASE, f"paths.results_dir={results}", *overrides]
    check_config(compose_run(args), args, on_this_machine=on_this_machine)


@pytest.mark.parametrize("profile, attention, protocol", itertools.product(
    ("smoke", "cpu", "paper"), ("softmax", "rfa", "performer", "kernelized", "rmfa"), ("lra", "authors")))
def test_every_shipped_combination_passes(profile, attention, protocol):
    check(f"profile={profile}", f"attention={attention}", f"protocol={protocol}")


@pytest.mark.parametrize("overrides", [
    *([f"task={t}"] for t in ("listops", "text", "retrieval", "image", "pathfinder", "pathx")),
    *([f"trainer={t}"] for t in ("default", "cpu", "gpu", "ddp")),
    ["+trainer.max_time=00:00:30:00"], ["+attention.options.seed=3"], ["run.tag=lr_1e-3"],
])
def test_shipped_groups_and_documented_options_pass(overrides):
    # trainer=gpu needs a GPU where the run runs: off this machine on a CPU-only one
    check(*overrides, on_this_machine=CUDA or overrides != ["trainer=gpu"])


# Kernel and option pairs that cannot work: the Maclaurin series of inverse, log and sqrt
# converges only for |q·k| < 1, which q·k without ppSBN leaves at the first batch.
@pytest.mark.parametrize("attention, kernel", itertools.product(("rmfa", "kernelized"), ("inverse", "log", "sqrt")))
def test_a_finite_radius_kernel_without_ppsbn_is_refused(attention, kernel):
    with pytest.raises(ConfigError) as caught:
        check(f"attention={attention}", f"kernel={kernel}", "attention.options.ppsbn=false")
    assert str(caught.value) == (
        f"kernel={kernel} conflicts with attention.options.ppsbn=false: the Maclaurin series of {kernel} "
        f"converges only for |q·k| < 1 (its radius of convergence), and without ppSBN q·k has no bound, "
        f"so attention={attention} refuses the first batch; set attention.options.ppsbn=true, or use a "
        f"kernel of infinite radius: kernel=exp|trigh")


@pytest.mark.parametrize("attention, kernel", itertools.product(("rmfa", "kernelized"), ("exp", "trigh")))
def test_an_infinite_radius_kernel_runs_without_ppsbn(attention, kernel):
    check(f"attention={attention}", f"kernel={kernel}", "attention.options.ppsbn=false")


def test_the_refused_pair_fails_in_the_model_too():
    """The check says what the attention itself would do at its first forward pass."""
    from macformer.attention import build_attention

    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 2, 64, 16) for _ in range(3))
    with pytest.raises(ValueError, match="radius of convergence"):
        build_attention("rmfa", head_dim=16, num_heads=2, kernel="log", ppsbn=False)(q, k, v)


@pytest.mark.skipif(CUDA, reason="needs a machine without CUDA")
@pytest.mark.parametrize("overrides, message", [
    (["attention=rmfa", "attention.options.path=triton"],
     "attention.options.path=triton cannot run: the Triton kernels need a CUDA GPU (or TRITON_INTERPRET=1 "
     "on a CPU), and this machine has none; use attention.options.path=auto (triton where it can run) or "
     "reference"),
    (["trainer=gpu"], "trainer.accelerator=gpu needs a CUDA GPU and this machine has none "
                      "(torch.cuda.is_available() is False); use trainer=cpu or trainer.accelerator=auto"),
])
def test_a_gpu_setting_on_a_machine_without_one(overrides, message, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)  # the attention tests' interpreter would run it
    with pytest.raises(ConfigError) as caught:
        check(*overrides)
    assert str(caught.value) == message
    check(*overrides, on_this_machine=False)  # a cluster node checks it itself


def test_triton_needs_a_head_dimension_its_kernels_tile(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # the device is no obstacle: the head dimension is
    with pytest.raises(ConfigError, match=r"power of two in 16\.\.128, got model.encoder.head_dim=8"):
        check("attention=rmfa", "attention.options.path=triton")
    check("attention=rmfa", "attention.options.path=triton", "model.encoder.head_dim=16")


@pytest.mark.parametrize("key", ["paths.results_dir", "paths.data_dir"])
def test_a_folder_name_over_name_max_is_one_line(tmp_path, key):
    long = "x" * (os.pathconf(tmp_path, "PC_NAME_MAX") + 1)
    args = [*BASE, f"{key}={tmp_path / long / 'more'}"]
    with pytest.raises(ConfigError) as caught:
        check_config(compose_run(args), args)
    assert str(caught.value) == (f"{key} has a folder name of {len(long)} bytes ({'x' * 24}…), over the file "
                                 f"system's limit of {len(long) - 1} (NAME_MAX at {tmp_path}); shorten it")
    assert list(tmp_path.iterdir()) == []


def test_a_run_folder_over_name_max_is_one_line(tmp_path):
    args = [*BASE, f"paths.results_dir={tmp_path}", f"hydra.run.dir={tmp_path / ('r' * 300)}"]
    with pytest.raises(ConfigError, match=r"^the run folder \(hydra.run.dir\) has a folder name of 300 bytes"):
        check_config(compose_run(args), args)


# The probes that used to run silently, escape the run folder or end in a traceback.
@pytest.mark.parametrize("overrides, message", [
    (["protocol=authors", "protocol.val_examples=-5"],
     "protocol.val_examples must be null or a mapping of tasks (listops, text, retrieval, image, "
     "pathfinder, pathx) to positive integers, got -5"),
    (["protocol=authors", "protocol.val_examples.listops=0"],
     "protocol.val_examples.listops must be a positive integer, got 0"),
    (["attention=rfa", "attention.options.sigma=0"],
     "attention.options.sigma must be a positive finite number, got 0"),
    (["protocol.pooling=bogus"], "protocol.pooling='bogus' is not allowed; allowed values: real, all"),
    (["protocol.best_after_fraction=1.5"],
     "protocol.best_after_fraction must be a number in [0, 1), got 1.5"),
    (["run.tag=../../../../escaped"],
     "run.tag must be a name of 1 to 64 letters, digits, '-' or '_' or null, got '../../../../escaped'"),
    (["attention=rmfa", "attention.options.max_degree=0"],
     "attention.options.max_degree must be an integer in [1, 64], got 0"),
    (["attention=rmfa", "attention.options.path=fast"],
     "attention.options.path='fast' is not allowed; allowed values: auto, reference, triton"),
    (["attention=rmfa", "attention.options.num_features=1"],
     "attention.options.num_features must be an integer in [2, 1048576], got 1"),
    (["attention=softmax", "attention.options.dropout=1.0"],
     "attention.options.dropout must be a number in [0, 1), got 1.0"),
    (["data.limit_train=0"], "data.limit_train must be a positive integer or null, got 0"),
    (["data.num_workers=-1"], "data.num_workers must be an integer in [0, 256], got -1"),
    (["seed=true"], "seed must be an integer in [0, 4294967295], got true"),
    (["trainer.gradient_clip_algorithm=clip"],
     "trainer.gradient_clip_algorithm='clip' is not allowed; allowed values: norm, value"),
    (["trainer.max_steps=3"], "trainer.max_steps=3 differs from task.max_steps=6, which the "
                              "learning-rate schedule follows; set task.max_steps"),
    (["+trainer.max_time=soon"],
     "trainer.max_time must be \"DD:HH:MM:SS\" or {days, hours, minutes, seconds} or null, got 'soon'"),
    (["+protocol.poolng=all"], "protocol.poolng is not a setting of protocol; its settings: "
                               "best_after_fraction, cycle_beta1, gradient_clip_algorithm, "
                               "listops_closing_tokens, name, pooling, rmf_importance_weights, "
                               "shared_gamma, softmax_ppsbn, test_drop_last, val_examples"),
])
def test_bad_value_is_one_line_naming_key_value_and_allowed(overrides, message):
    with pytest.raises(ConfigError) as caught:
        check(*overrides)
    assert str(caught.value) == message


def test_an_option_that_needs_the_plus_prefix_says_so():
    with pytest.raises(ConfigError) as caught:
        check("attention=rfa", "+attention.options.max_degree=3")
    assert str(caught.value) == (
        "attention.options.max_degree is not an option of attention 'rfa'; allowed options: "
        "num_features, sigma, causal; seed, denominator_floor: not in the attention's config file, "
        "so add with Hydra's + prefix: +attention.options.NAME=VALUE")


def test_every_option_of_every_attention_has_its_own_rule():
    for name in attentions():
        assert set(attention_options(name)) <= set(option_rules(name)), name


def test_a_tag_that_would_leave_the_run_folder_starts_nothing(tmp_path):
    args = [*BASE, f"paths.results_dir={tmp_path / 'results'}", f"paths.data_dir={tmp_path / 'data'}",
            "run.tag=../../../../escaped"]
    with pytest.raises(ConfigError, match="run.tag"):
        train(compose_run(args), args)
    assert list(tmp_path.iterdir()) == []  # no run folder, inside or outside results/


@pytest.mark.parametrize("override, line", [
    ("protocol.pooling=bogus", "error: protocol.pooling='bogus' is not allowed; allowed values: real, all"),
    ("run.tag=../../../../escaped",
     "error: run.tag must be a name of 1 to 64 letters, digits, '-' or '_' or null, got '../../../../escaped'"),
    ("attention.options.seed=3", "error: attention.options.seed is not in the composed config, so Hydra "
                                 "needs the + prefix to add it: +attention.options.seed=3 (or check the "
                                 "key's spelling)"),
    ("+attention.options.num_features=64", "error: attention.options.num_features is already in the "
                                           "config: set it without the + prefix: "
                                           "attention.options.num_features=64"),
])
def test_command_line_prints_one_line_and_makes_no_folder(tmp_path, override, line):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "macformer.train", *BASE, "paths.results_dir=results", override],
        cwd=work, capture_output=True, text=True, timeout=120,
        env={**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [line]  # the one line, no traceback
    assert [p for p in tmp_path.rglob("*") if p != work and p not in work.parents] == []  # no folder made
