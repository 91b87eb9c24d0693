"""conf/pretrain: one option per objective, the same keys in each, composed under `pretrain`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from macformer.training.pretrain.module import OBJECTIVES

CONF = Path(__file__).resolve().parents[2] / "conf"
KEYS = {"objective", "steps", "lr", "warmup_steps", "eval_every", "mask_rate", "mask_span"}


@pytest.mark.parametrize("option", ["none", *OBJECTIVES])
def test_each_option_composes_under_pretrain(option):
    with initialize_config_dir(str(CONF), version_base=None):
        cfg = compose(overrides=[f"+pretrain={option}"])
    assert set(cfg) == {"pretrain"} and set(cfg.pretrain) == KEYS
    assert cfg.pretrain.objective == option
    # The SPT defaults: half the tokens masked, no spans; the cpu profile's schedule.
    assert cfg.pretrain.mask_rate == 0.5 and cfg.pretrain.mask_span == 1
    assert (cfg.pretrain.steps, cfg.pretrain.lr, cfg.pretrain.warmup_steps, cfg.pretrain.eval_every) == (
        600, 1.0e-3, 60, 100)


def test_the_options_are_the_objectives_and_none():
    assert {p.stem for p in (CONF / "pretrain").glob("*.yaml")} == {"none", *OBJECTIVES}
