"""The rule of every setting a run reads, by dotted key (attention options: attention.py).

A key missing from the composed config is not checked here (a callback or logger the
user left out); a key present in a group with a fixed set of settings but not in this
table is refused, so a typo such as `+protocol.poolng=all` cannot pass unnoticed.
"""

from __future__ import annotations

import math
from pathlib import Path

from .rules import (
    Boolean,
    Duration,
    Integer,
    ListOf,
    Number,
    OneOf,
    PerTask,
    SafeName,
    Text,
    is_integer,
)


def profile_names(directory: Path | None = None) -> tuple[str, ...]:
    """conf/profile/*.yaml, in their `reproduce.order` (smoke, cpu, paper), the order every
    listing of profiles uses. A file without a whole-number order comes last here; the
    driver (macformer.reproduce.profiles) refuses it, naming the file."""
    from omegaconf import OmegaConf

    from macformer.conf_dir import CONFIG_DIR

    def order(path: Path):
        found = OmegaConf.select(OmegaConf.load(path), "reproduce.order", default=None)
        return (found if is_integer(found) else math.inf, path.stem)

    return tuple(p.stem for p in sorted(Path(directory or CONFIG_DIR / "profile").glob("*.yaml"), key=order))


PROFILES = profile_names()  # read once: setting_rules() is called for every key checked
ISOLATIONS = ("fork", "subprocess")  # how the reproduce driver starts a run (reproduce/runner.py)
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
PRECISIONS = ("auto", "32-true", "32", 32, "16-mixed", "bf16-mixed", "bf16-true", "64-true", 64)
STRATEGIES = ("auto", "ddp", "ddp_spawn", "ddp_fork", "ddp_find_unused_parameters_true")
POOLINGS = ("real", "all")
CLIP_ALGORITHMS = ("norm", "value")
SEED = Integer(0, 2**32 - 1)  # what seed_everything accepts
POSITIVE = Integer(1)
POSITIVE_OR_NULL = Integer(1, null=True)
FRACTION_BELOW_ONE = Number(0, 1, open_high=True)


def protocol_names() -> tuple[str, ...]:
    from macformer.conf_dir import CONFIG_DIR

    return tuple(sorted(p.stem for p in Path(CONFIG_DIR, "protocol").glob("*.yaml")))


PRETRAIN_OBJECTIVES = ("none", "mlm", "lm")  # conf/pretrain/<objective>.yaml


def sweep_group_names() -> tuple[str, ...]:
    from macformer.conf_dir import CONFIG_DIR

    return tuple(sorted(p.stem for p in Path(CONFIG_DIR, "sweep").glob("*.yaml")))


def setting_rules() -> dict[str, object]:
    from macformer.data.tasks import TASKS

    return {
        "seed": SEED,
        # task: the LRA schedule
        "task.name": OneOf(TASKS),
        "task.batch_size": POSITIVE,
        "task.lr": Number(0, open_low=True),
        "task.warmup_steps": Integer(0),  # below task.max_steps: config.py
        "task.max_steps": POSITIVE,
        "task.eval_every": POSITIVE,
        # protocol: every key of conf/protocol/*.yaml
        "protocol.name": OneOf(protocol_names()),
        "protocol.gradient_clip_algorithm": OneOf(CLIP_ALGORITHMS),
        "protocol.cycle_beta1": Boolean(),
        "protocol.best_after_fraction": FRACTION_BELOW_ONE,
        "protocol.val_examples": PerTask(TASKS, POSITIVE),
        "protocol.test_drop_last": Boolean(),
        "protocol.listops_closing_tokens": Boolean(),
        "protocol.pooling": OneOf(POOLINGS),
        "protocol.shared_gamma": Boolean(),
        "protocol.softmax_ppsbn": Boolean(),
        "protocol.rmf_importance_weights": Boolean(),
        # data: sizes and switches of the data module (data.dataset: config.py, per task)
        "data.task": OneOf(TASKS),
        "data.data_dir": Text(),
        "data.batch_size": POSITIVE,
        "data.num_workers": Integer(0, 256),
        "data.seed": SEED,
        "data.max_length": POSITIVE_OR_NULL,  # at most the task's length: config.py
        "data.limit_train": POSITIVE_OR_NULL,
        "data.limit_eval": POSITIVE_OR_NULL,
        "data.limit_val": POSITIVE_OR_NULL,
        "data.dataset": Text(),
        "data.test_drop_last": Boolean(),
        "data.listops_closing_tokens": Boolean(),
        # model
        "model.hidden_dim": POSITIVE,
        "model.encoder.dim": POSITIVE,
        "model.encoder.num_layers": POSITIVE,
        "model.encoder.num_heads": POSITIVE,
        "model.encoder.head_dim": POSITIVE,
        "model.encoder.ff_dim": POSITIVE,
        "model.encoder.dropout": FRACTION_BELOW_ONE,
        "model.encoder.pooling": OneOf(POOLINGS),
        # module: the optimiser
        "lit_module.eps": Number(0, open_low=True),
        "lit_module.weight_decay": Number(0),
        "lit_module.cycle_beta1": Boolean(),
        # run: the run's folder and what to do with an earlier run there
        "run.profile": OneOf(PROFILES),
        "run.tag": SafeName(null=True),
        "run.resume": Boolean(),
        "run.force": Boolean(),
        "run.test": Boolean(),
        "run.sweep_id": Text(null=True),
        # data generated when missing
        "generate.listops.n_train": POSITIVE,
        "generate.listops.n_val": POSITIVE,
        "generate.listops.n_test": POSITIVE,
        "generate.pathfinder.count": POSITIVE,
        "generate.seed": SEED,
        "debug.interrupt_at_step": POSITIVE_OR_NULL,
        "debug.interrupt_pretrain_at_step": POSITIVE_OR_NULL,
        "debug.interrupt_signal": OneOf(("SIGINT", "SIGTERM")),
        # trainer: the values the project's trainer files set (and max_time, added with +)
        "trainer.accelerator": OneOf(ACCELERATORS),
        "trainer.devices": Integer(1),
        "trainer.num_nodes": POSITIVE,
        "trainer.strategy": OneOf(STRATEGIES),
        "trainer.precision": OneOf(PRECISIONS),
        "trainer.deterministic": OneOf(("auto", True, False, "warn")),
        "trainer.max_steps": POSITIVE,  # equal to task.max_steps: config.py
        "trainer.val_check_interval": POSITIVE,
        "trainer.check_val_every_n_epoch": POSITIVE_OR_NULL,
        "trainer.gradient_clip_val": Number(0, null=True),
        "trainer.gradient_clip_algorithm": OneOf(CLIP_ALGORITHMS),
        "trainer.log_every_n_steps": POSITIVE,
        "trainer.num_sanity_val_steps": Integer(-1),
        "trainer.enable_model_summary": Boolean(),
        "trainer.enable_progress_bar": Boolean(),
        "trainer.default_root_dir": Text(),
        "trainer.max_time": Duration(),
        # callbacks the project configures
        "callbacks.throughput.skip_steps": Integer(0),
        "callbacks.attention_diagnostics.probe_size": POSITIVE,
        "callbacks.attention_diagnostics.max_length": POSITIVE,
        "callbacks.progress.every_s": Number(0, open_low=True),
        # pretrain: self-pretraining on the task's own inputs before the fine-tuning (conf/pretrain/)
        "pretrain.objective": OneOf(PRETRAIN_OBJECTIVES),
        "pretrain.steps": POSITIVE,
        "pretrain.lr": Number(0, open_low=True),
        "pretrain.warmup_steps": Integer(0),
        "pretrain.eval_every": POSITIVE,
        "pretrain.mask_rate": Number(0, 1, open_low=True),
        "pretrain.mask_span": POSITIVE,
        # reproduce: the driver's part of conf/profile/*.yaml (macformer.reproduce.profiles),
        # which training composes and ignores; outside config_hash
        "reproduce.order": POSITIVE,
        "reproduce.groups": ListOf(OneOf(sweep_group_names())),
        "reproduce.seeds": ListOf(SEED),
        "reproduce.isolation": OneOf(ISOLATIONS),
        "reproduce.run_timeout_s": Number(0, open_low=True, null=True),
        "reproduce.why": Text(),
    }


# Groups whose every key is in the table: anything else there is a typo.
FIXED_GROUPS = ("task", "protocol", "data", "run", "generate", "debug", "reproduce", "pretrain")
DERIVED = {"data._target_", "run.label", "run.relative_dir"}  # set by the config files themselves
