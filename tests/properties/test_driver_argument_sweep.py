"""Random command lines of `macformer-reproduce`: any mix of bad values, in any order, with
good options and Hydra overrides among them, is exit 2 and one line on stderr, nothing on
stdout and no traceback (the driver's `main` in this process; it refuses before it plans,
so nothing is composed or run); and overrides anywhere parse as overrides at the end."""

from __future__ import annotations

import contextlib
import io
import math
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from macformer.reproduce.__main__ import main
from macformer.reproduce.cli import parse
from macformer.reproduce.groups import GROUPS
from macformer.reproduce.sweep import SWEEPS

SWEEP = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# An option's value; a word with `=` is an override wherever it stands (tests/reproduce/ has those).
WORD = st.text(alphabet=string.ascii_letters + string.digits + "_-./:", min_size=0, max_size=10)
ROWS = {r.name for r in SWEEPS["smoke"].rows}
TASKS = set(SWEEPS["smoke"].tasks)


def _not_int(allow=()):
    return WORD.filter(lambda w: w not in allow and not _is_int(w))


def _is_int(word: str) -> bool:
    try:
        int(word)
    except ValueError:
        return False
    return True


def _not_number(positive: bool):
    low = st.floats(max_value=0.0 if positive else -1e-9, allow_nan=False)
    text = WORD.filter(lambda w: not _is_finite(w))
    return st.one_of(low.map(repr), st.sampled_from(["nan", "inf", "-inf"]), text)


def _is_finite(word: str) -> bool:
    try:
        return math.isfinite(float(word))
    except ValueError:
        return False


def _many(bad):
    """Several values of which at least one is bad (the good ones: 0)."""
    return st.tuples(st.lists(st.just("0"), max_size=2), bad).map(lambda t: [*t[0], t[1]])


# option -> values it must refuse (each value a list of words)
BAD = {
    "--threads": st.one_of(st.integers(max_value=0).map(str), _not_int()).map(lambda v: [v]),
    "--calibration-steps": st.one_of(st.integers(max_value=-1).map(str), _not_int()).map(lambda v: [v]),
    "--jobs": st.one_of(st.integers(max_value=0).map(str), _not_int(("auto",))).map(lambda v: [v]),
    "--jobs-per-gpu": st.one_of(st.integers(max_value=0).map(str), _not_int(("auto",))).map(lambda v: [v]),
    "--pack-minutes": _not_number(positive=False).map(lambda v: [v]),
    "--run-timeout": _not_number(positive=True).map(lambda v: [v]),
    "--progress-every": _not_number(positive=False).map(lambda v: [v]),
    "--seeds": _many(st.one_of(st.integers(max_value=-1).map(str), _not_int())),
    "--sweep": WORD.filter(lambda w: any(g not in GROUPS for g in w.split(","))).map(lambda v: [v]),
    "--profile": WORD.filter(lambda w: w not in ("auto", "smoke", "cpu", "paper")).map(lambda v: [v]),
    "--launcher": WORD.filter(lambda w: w not in ("slurm", "local", "submitit_local")).map(lambda v: [v]),
    "--isolation": WORD.filter(lambda w: w not in ("fork", "subprocess")).map(lambda v: [v]),
    "--gpus": st.sampled_from([",", "0,", "-1", "all,", ""]).map(lambda v: [v]),
    "--rows": st.lists(WORD, min_size=1, max_size=2).filter(lambda ws: any(w not in ROWS for w in ws)),
    "--tasks": st.lists(WORD, min_size=1, max_size=2).filter(lambda ws: any(w not in TASKS for w in ws)),
}
GOOD = {"--threads": ["1"], "--jobs": ["1"], "--calibration-steps": ["0"], "--seeds": ["0", "1"],
        "--pack-minutes": ["0"], "--run-timeout": ["5"], "--progress-every": ["0"],
        "--tasks": ["listops"], "--rows": ["softmax", "rfa"], "--gpus": ["none"], "--dry-run": [],
        "--no-report": [], "--results-dir": ["unused-results"], "--isolation": ["fork"]}
OVERRIDES = st.lists(st.sampled_from(["task.max_steps=5", "logger=none", "+trainer.max_time=null",
                                      "task.lr=0.001"]), max_size=2, unique=True)


def _command(bad_options, good_options, overrides, data):
    """Words of the options (each with its values), shuffled, with the overrides anywhere
    between them (never inside an option's values), in their own order."""
    pieces = [[o, *v] for o, v in bad_options] + [[o, *GOOD[o]] for o in good_options]
    pieces = data.draw(st.permutations(pieces)) if pieces else []
    at = sorted(data.draw(st.lists(st.integers(0, len(pieces)), min_size=len(overrides),
                                   max_size=len(overrides))))
    argv = []
    for i in range(len(pieces) + 1):
        argv += [o for o, place in zip(overrides, at, strict=True) if place == i]
        argv += pieces[i] if i < len(pieces) else []
    return argv


@SWEEP
@given(st.data())
def test_any_mix_of_bad_values_is_exit_2_and_one_line(data):
    bad = data.draw(st.lists(st.sampled_from(sorted(BAD)), min_size=1, max_size=3, unique=True))
    bad_options = [(o, data.draw(BAD[o])) for o in bad]
    good = data.draw(st.lists(st.sampled_from(sorted(set(GOOD) - set(bad))), max_size=4, unique=True))
    argv = _command(bad_options, good, data.draw(OVERRIDES), data)
    if "--profile" not in bad:
        argv = ["--profile", "smoke", *argv]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as stop:
            rc = stop.code
    assert rc == 2, (argv, out.getvalue(), err.getvalue())
    assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue(), (argv, err.getvalue())
    assert out.getvalue() == "", (argv, out.getvalue())


@SWEEP
@given(st.data())
def test_overrides_anywhere_parse_as_overrides_at_the_end(data):
    good = data.draw(st.lists(st.sampled_from(sorted(GOOD)), max_size=6, unique=True))
    overrides = data.draw(OVERRIDES)
    options = [w for o in good for w in (o, *GOOD[o])]
    anywhere = _command([], good, overrides, data)
    assert vars(parse(anywhere)) == vars(parse(options + overrides)) == vars(parse(overrides + options))
