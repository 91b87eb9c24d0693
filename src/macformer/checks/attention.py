"""The options of every attention: names from the registry, values checked here.

The attention classes keep their own guards; this module says the same thing before
anything is built, in one line naming `attention.options.<name>`. An option without
a rule below (one added to a class later) is held to the type of its default, and
null is allowed wherever the class's own default is null.
"""

from __future__ import annotations

import dataclasses

from .rules import Boolean, Integer, Number, OneOf, is_integer, is_number, problem

FEATURES_MAX = 2**20  # random features per head: beyond this no run fits in memory
FLAGS = ("causal", "ppsbn", "ppsbn_power", "shared_gamma", "importance_weights")


def option_rules(attention: str) -> dict[str, object]:
    from macformer.attention import KERNELS

    rules = {
        "kernel": OneOf(tuple(KERNELS)),
        # rmfa keeps one constant feature beside the random ones
        "num_features": Integer(2 if attention == "rmfa" else 1, FEATURES_MAX),
        "max_degree": Integer(1, 64),  # the Maclaurin series is truncated here
        "sigma": Number(0, open_low=True),
        "seed": Integer(0, 2**32 - 1),
        "denominator_floor": Number(0, open_low=True),
        "path": OneOf(_rmfa_paths()),  # which code computes it
        "dropout": Number(0, 1, open_high=True),
        **{flag: Boolean() for flag in FLAGS},
    }
    return rules


def _rmfa_paths() -> tuple:
    try:
        from macformer.attention.rmf.paths import PATH_OPTIONS
    except ImportError:  # an rmfa without a `path` option
        return ()
    return tuple(PATH_OPTIONS)


def _rule_for(option: str, default, rules: dict):
    """The option's rule; null is allowed where the class's own default is null."""
    rule = rules.get(option) or _rule_from_default(default)
    if default is None and isinstance(rule, (Integer, Number)):
        return dataclasses.replace(rule, null=True)
    return rule


def _rule_from_default(default):
    if isinstance(default, bool):
        return Boolean()
    if is_integer(default):
        return Integer()
    if is_number(default):
        return Number()
    return None  # a string or null default: the class checks it


def attention_problem(name: str, options: dict, composed: set[str]) -> str | None:
    """The first bad option of attention `name`, as a one-line error, or None.
    `composed`: the options the config file sets (others must be added with `+`)."""
    from macformer.attention import attention_options

    allowed = attention_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        return (f"attention.options.{unknown[0]} is not an option of attention {name!r}; "
                f"allowed options: {describe_options(allowed, composed)}")
    rules = option_rules(name)
    for option, value in options.items():
        rule = _rule_for(option, allowed[option], rules)
        found = rule and problem(f"attention.options.{option}", value, rule)
        if found:
            return found
    return None


def describe_options(allowed, composed: set[str]) -> str:
    """`a, b, c (d, e: add with +attention.options.NAME=VALUE)`."""
    if not allowed:
        return "(none)"
    plus = [o for o in allowed if o not in composed]
    text = ", ".join(o for o in allowed if o in composed)
    if plus:
        text += ("; " if text else "") + (f"{', '.join(plus)}: not in the attention's config file, "
                                          "so add with Hydra's + prefix: +attention.options.NAME=VALUE")
    return text
