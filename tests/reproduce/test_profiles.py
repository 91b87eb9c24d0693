"""A profile's one home, conf/profile/<name>.yaml: its `reproduce:` block is what the
driver runs, training composes it and checks it but leaves it out of config_hash, and a
file with a missing or bad block is refused in one line naming the file and the key."""

import pytest
from omegaconf import OmegaConf

from macformer.checks import ConfigError, check_config
from macformer.checks.settings import PROFILES as CHECKED_PROFILES
from macformer.config import compose_run
from macformer.reproduce import sweep
from macformer.reproduce.profiles import (
    PROFILE_DIR,
    PROFILES,
    Profile,
    ProfileError,
    data_vars,
    read_profiles,
)
from macformer.reproduce.sweep import choose_profile, plan_groups, sweeps_of

# The values the driver ran with when they lived in reproduce/sweep.py.
EXPECTED = {
    "smoke": Profile("smoke", ("smoke",), (0,), "fork", 300,
                     "wiring check: each kind of row once, accuracies mean nothing"),
    "cpu": Profile("cpu", ("cpu",), (0,), "fork", 1200,
                   "every kind of row, four RMFA kernels (trigh = exp), one seed, short training"),
    "paper": Profile("paper", ("core",), (0, 1, 2), "subprocess", None, "the full protocol, three seeds"),
}
# config_hash of `listops softmax seed0`, measured before the block was added to the files:
# results/cpu's committed runs carry such hashes, so the block must not change them.
HASH_BEFORE = {"smoke": "a034e25dd28f44eb", "cpu": "c274a1f478f14d5c"}


def test_every_profile_block_is_read_and_is_what_the_driver_uses():
    assert PROFILES == EXPECTED and list(PROFILES) == ["smoke", "cpu", "paper"]
    assert sweep.PROFILES is PROFILES and sweep.Profile is Profile
    assert CHECKED_PROFILES == tuple(PROFILES)  # run.profile's choices, in the same order
    for name, profile in PROFILES.items():
        sweeps = sweeps_of(name)
        assert [s.group for s in sweeps] == list(profile.groups)
        assert {(s.seeds, s.isolation, s.run_timeout_s) for s in sweeps} == {
            (profile.seeds, profile.isolation, profile.run_timeout_s)}
        assert all(s.why.startswith(profile.why + "; sweep ") for s in sweeps)
    with pytest.raises(ValueError, match=r"choose from auto, smoke, cpu, paper$"):
        choose_profile("nightly")


@pytest.mark.parametrize("profile", sorted(HASH_BEFORE))
def test_the_block_is_composed_but_leaves_config_hash_unchanged(profile, tmp_path):
    cfg = compose_run([f"profile={profile}", "task=listops"])
    assert OmegaConf.to_container(cfg.reproduce)["seeds"] == list(PROFILES[profile].seeds)
    extra = (f"paths.data_dir={tmp_path}", f"paths.results_dir={tmp_path}")
    [job] = plan_groups(sweeps_of(profile), extra, tasks=["listops"], rows=["softmax"])
    assert job.config_hash == HASH_BEFORE[profile]


def test_macformer_train_accepts_every_profile_and_refuses_a_typo_in_the_block():
    for name in PROFILES:
        check_config(compose_run([f"profile={name}"]))
    with pytest.raises(ConfigError, match=r"^reproduce\.seed is not a setting of reproduce; its settings: "):
        check_config(compose_run(["profile=cpu", "+reproduce.seed=1"]))
    with pytest.raises(ConfigError, match=r"^reproduce\.seeds must be a non-empty list of distinct values"):
        check_config(compose_run(["profile=cpu", "reproduce.seeds=[0,0]"]))


def test_data_vars_are_the_sizes_the_profile_generates():
    assert data_vars("cpu") == ("LISTOPS_TRAIN=20000 LISTOPS_VAL=1000 LISTOPS_TEST=1000 PATHFINDER_COUNT=12000 "
                                'PROFILE_DATA_ARGS="--datasets listops-short pathfinder16-cpu"')


def _profiles_dir(tmp_path, **blocks):
    """A copy of conf/profile/ with the named profiles' blocks replaced (None: removed)."""
    for source in PROFILE_DIR.glob("*.yaml"):
        cfg = OmegaConf.load(source)
        if source.stem in blocks:
            if blocks[source.stem] is None:
                cfg.pop("reproduce")
            else:
                cfg.reproduce = blocks[source.stem]
        OmegaConf.save(cfg, tmp_path / source.name)
    return tmp_path


def _block(name, **changes):
    return {**OmegaConf.to_container(OmegaConf.load(PROFILE_DIR / f"{name}.yaml").reproduce), **changes}


def test_the_order_key_orders_the_profiles(tmp_path):
    directory = _profiles_dir(tmp_path, smoke=_block("smoke", order=4))
    assert list(read_profiles(directory)) == ["cpu", "paper", "smoke"]


def test_a_file_without_the_block_is_refused_naming_the_file(tmp_path):
    directory = _profiles_dir(tmp_path, cpu=None)
    with pytest.raises(ProfileError) as error:
        read_profiles(directory)
    message = str(error.value)
    assert message.startswith(f"{directory / 'cpu.yaml'}: no reproduce: block") and "\n" not in message


@pytest.mark.parametrize("change, key", [
    ({"isolation": "thread"}, "reproduce.isolation='thread' is not allowed; allowed values: fork, subprocess"),
    ({"seeds": []}, "reproduce.seeds must be a non-empty list"),
    ({"groups": ["cpu", "nightly"]}, "reproduce.groups must be a non-empty list of distinct values out of "),
    ({"run_timeout_s": 0}, "reproduce.run_timeout_s must be a positive finite number or null, got 0"),
    ({"why": ""}, "reproduce.why must be a non-empty string"),
    ({"seed": [0]}, "reproduce.seed is not a driver setting; its settings: order, groups, seeds"),
])
def test_a_bad_value_is_refused_in_one_line_naming_the_file_and_key(tmp_path, change, key):
    directory = _profiles_dir(tmp_path, cpu=_block("cpu", **change))
    with pytest.raises(ProfileError) as error:
        read_profiles(directory)
    message = str(error.value)
    assert message.startswith(f"{directory / 'cpu.yaml'}: {key}") and "\n" not in message


def test_two_profiles_of_one_order_are_refused(tmp_path):
    directory = _profiles_dir(tmp_path, cpu=_block("cpu", order=1))  # smoke's: cpu sorts first by name
    with pytest.raises(ProfileError, match=r"smoke\.yaml: reproduce\.order=1 is cpu's too; each profile needs its own$"):
        read_profiles(directory)


def test_a_missing_key_is_refused_naming_it(tmp_path):
    block = _block("paper")
    del block["run_timeout_s"]  # null means no limit: leaving it out is not the same
    with pytest.raises(ProfileError, match=r"paper\.yaml: reproduce\.run_timeout_s is missing$"):
        read_profiles(_profiles_dir(tmp_path, paper=block))
