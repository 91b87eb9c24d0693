"""Random overrides, parsed and applied by Hydra's own override code to the composed
config of their groups, and checked as a run checks them (nothing trains): a bad value
is one ConfigError line naming its key, and no value, good or bad, ends in any other
exception. (The groups are composed once each: a value override does not change the
defaults list, and a full composition per case would cost ~0.3 s.)"""

from __future__ import annotations

import copy
import functools

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.override_parser.overrides_parser import OverridesParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sweep_values import ATTENTION, TEXT, bad_override, written

from macformer.checks import check_config
from macformer.checks.errors import ConfigError
from macformer.checks.settings import setting_rules
from macformer.config import compose_run

BASE = ("profile=smoke", "logger=none", "paths.results_dir=unused-results")
CASES = 150
SWEEP = settings(max_examples=CASES, derandomize=True, database=None, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@functools.cache
def composed(groups: tuple[str, ...]):
    return compose_run([*BASE, *groups])


def outcome(groups, key, value):
    """None when the config passes, else the ConfigError's message."""
    override = f"{key}={written(value)}"
    cfg = copy.deepcopy(composed(groups))
    ConfigLoaderImpl._apply_overrides_to_config(OverridesParser.create().parse_overrides([override]), cfg)
    try:
        check_config(cfg, [*BASE, *groups, override])
    except ConfigError as error:
        return str(error)
    return None


@SWEEP
@given(bad_override())
def test_a_bad_value_of_any_setting_is_one_line_naming_its_key(case):
    groups, key, value = case
    message = outcome(groups, key, value)
    assert message is not None, f"{key}={written(value)} was accepted"
    assert "\n" not in message and key.lstrip("+") in message, message


ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**40), st.floats(), TEXT,
                      st.lists(st.integers(0, 3), max_size=2))


def _any_override():
    plain = st.sampled_from(sorted(k for k in setting_rules() if k != "trainer.max_time"))
    options = st.sampled_from(sorted(ATTENTION)).flatmap(lambda name: st.sampled_from(
        sorted(ATTENTION[name])).map(lambda option: (
            (f"attention={name}",), f"{'+' if option[0] == '+' else ''}attention.options.{option.lstrip('+')}")))
    return st.one_of(plain.map(lambda k: ((), k)), options)


@SWEEP
@given(_any_override(), ANY_VALUE)
def test_any_value_of_any_setting_passes_or_fails_in_one_line(target, value):
    (groups, key) = target
    message = outcome(groups, key, value)  # any other exception fails the test
    assert message is None or ("\n" not in message and message.strip()), message


FIRST_BAD = {"positive": 0, "features": 1, "non-negative": -1, "fraction": 1.0, "positive number": 0.0,
             "positive number or null": -1.0, "non-negative number": -0.5, "flag": "maybe",
             "flag or null": 2, "kernel": "cosine"}


def _table():
    from sweep_values import (
        CHOICES,
        FLAGS,
        FRACTIONS_BELOW_ONE,
        NON_NEGATIVE_INTS,
        POSITIVE_INTS,
        POSITIVE_NUMBERS,
    )

    kinds = {**dict.fromkeys(POSITIVE_INTS, "positive"), **dict.fromkeys(NON_NEGATIVE_INTS, "non-negative"),
             **dict.fromkeys(FRACTIONS_BELOW_ONE, "fraction"), **dict.fromkeys(POSITIVE_NUMBERS, "positive number"),
             **dict.fromkeys(FLAGS, "flag")}
    rows = [((), key, FIRST_BAD[kind]) for key, kind in kinds.items()]
    rows += [((), key, "bogus") for key in CHOICES]
    rows += [((f"attention={name}",), ("+" if option[0] == "+" else "") + "attention.options." + option.lstrip("+"),
              FIRST_BAD[kind]) for name, options in ATTENTION.items() for option, kind in options.items()]
    return rows


@pytest.mark.parametrize("groups, key, value", _table())
def test_every_listed_setting_refuses_a_plain_bad_value(groups, key, value):
    message = outcome(groups, key, value)
    assert message is not None and "\n" not in message and key.lstrip("+") in message, message
