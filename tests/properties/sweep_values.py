"""Values for the sweeps of bad input, written on the command line as Hydra parses them.

The kinds of setting below are this test's own reading of what each key means, kept
apart from the checker's table, so a rule that is too lenient shows up as a case that
passes when it should not.
"""

from __future__ import annotations

import math
import string

from hypothesis import strategies as st

POSITIVE_INTS = (
    "task.batch_size", "task.max_steps", "task.eval_every", "data.limit_train", "data.limit_eval",
    "model.hidden_dim", "model.encoder.dim", "model.encoder.num_layers", "model.encoder.num_heads",
    "model.encoder.head_dim", "model.encoder.ff_dim", "generate.listops.n_train",
    "generate.listops.n_val", "generate.listops.n_test", "generate.pathfinder.count",
    "trainer.log_every_n_steps", "trainer.num_nodes", "trainer.val_check_interval",
    "callbacks.attention_diagnostics.probe_size", "data.max_length",
)
NON_NEGATIVE_INTS = ("seed", "task.warmup_steps", "data.num_workers", "generate.seed",
                     "callbacks.throughput.skip_steps")
FRACTIONS_BELOW_ONE = ("protocol.best_after_fraction", "model.encoder.dropout")
POSITIVE_NUMBERS = ("task.lr", "lit_module.eps", "callbacks.progress.every_s")
FLAGS = ("protocol.cycle_beta1", "protocol.test_drop_last", "protocol.listops_closing_tokens",
         "protocol.shared_gamma", "protocol.softmax_ppsbn", "protocol.rmf_importance_weights",
         "run.resume", "run.force", "run.test", "trainer.enable_model_summary",
         "trainer.enable_progress_bar", "data.test_drop_last")
CHOICES = {"protocol.pooling": ("real", "all"), "protocol.gradient_clip_algorithm": ("norm", "value"),
           "trainer.accelerator": ("auto", "cpu", "gpu", "cuda", "mps"), "run.profile": ("smoke", "cpu", "paper"),
           "data.dataset": ("lra", "listops-short"), "protocol.name": ("lra", "authors")}
# Attention options, per attention (the group is chosen with the option).
ATTENTION = {
    "rmfa": {"num_features": "features", "max_degree": "positive", "causal": "flag", "ppsbn": "flag", "kernel": "kernel", "+seed": "non-negative",
             "+denominator_floor": "positive number"},
    "rfa": {"num_features": "positive", "sigma": "positive number", "causal": "flag",
            "+seed": "non-negative", "+denominator_floor": "positive number or null"},
    "softmax": {"dropout": "fraction", "ppsbn": "flag"},
    "performer": {"num_features": "positive", "+seed": "non-negative", "+causal": "flag"},
    "kernelized": {"ppsbn": "flag", "causal": "flag", "kernel": "kernel"},
}

SAFE = string.ascii_letters + string.digits + "_-"
# Printable text Hydra reads back as the same string inside single quotes.
TEXT = st.text(alphabet=string.ascii_letters + string.digits + "_-./ :@", min_size=0, max_size=12)


def written(value) -> str:
    """`value` as a command-line override value that Hydra parses back to it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list):
        return "[" + ",".join(written(v) for v in value) + "]"
    raise TypeError(value)


def not_a_number():
    return st.one_of(TEXT, st.booleans(), st.lists(st.integers(0, 3), max_size=2))


def bad_for(kind: str):
    """Values that a setting of `kind` must refuse."""
    non_integral = st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda x: not (math.isfinite(x) and x == int(x)))
    if kind in ("positive", "features"):
        return st.one_of(st.integers(max_value=1 if kind == "features" else 0), non_integral,
                         not_a_number(), st.integers(min_value=2**21) if kind == "features" else st.nothing())
    if kind == "non-negative":
        return st.one_of(st.integers(max_value=-1), non_integral, not_a_number())
    if kind == "fraction":
        return st.one_of(st.floats(min_value=1.0), st.floats(max_value=-1e-9), st.just(math.nan),
                         not_a_number())
    if kind.startswith("positive number") or kind == "non-negative number":
        low = st.floats(max_value=-1e-9) if kind == "non-negative number" else st.floats(max_value=0.0)
        extra = st.nothing() if kind.endswith("or null") else st.none()
        return st.one_of(low, st.sampled_from([math.nan, math.inf]), not_a_number(), extra)
    if kind.startswith("flag"):
        return st.one_of(st.integers(), TEXT.filter(lambda s: s.lower() not in ("true", "false")),
                         st.floats(allow_nan=False), st.nothing() if kind.endswith("null") else st.none())
    if kind == "kernel":
        return st.one_of(TEXT.filter(lambda s: s not in ("exp", "inverse", "log", "trigh", "sqrt")),
                         st.integers())
    raise ValueError(kind)


def bad_override():
    """(key, override) for one bad value of one setting, drawn from every kind."""
    def setting(keys, kind):
        return st.tuples(st.sampled_from(keys), bad_for(kind)).map(lambda kv: ((), kv[0], kv[1]))

    choices = st.sampled_from(sorted(CHOICES)).flatmap(lambda key: st.tuples(
        st.just(()), st.just(key), st.one_of(TEXT.filter(lambda s: s not in CHOICES[key]), st.integers())))
    tags = st.tuples(st.just(()), st.just("run.tag"), st.one_of(
        st.text(st.characters(exclude_characters="'\\$", exclude_categories=("Cs", "Cc")),
                min_size=1, max_size=8).filter(lambda s: any(c not in SAFE for c in s)),
        st.text(alphabet=SAFE, min_size=65, max_size=70), st.just("")))
    attention = st.sampled_from(sorted(ATTENTION)).flatmap(lambda name: st.sampled_from(
        sorted(ATTENTION[name].items())).flatmap(lambda item: bad_for(item[1]).map(
            lambda value: ((f"attention={name}",), f"{item[0][:1] if item[0][0] == '+' else ''}"
                           f"attention.options.{item[0].lstrip('+')}", value))))
    return st.one_of(setting(POSITIVE_INTS, "positive"), setting(NON_NEGATIVE_INTS, "non-negative"),
                     setting(FRACTIONS_BELOW_ONE, "fraction"), setting(POSITIVE_NUMBERS, "positive number"),
                     setting(FLAGS, "flag"), choices, tags, attention)
