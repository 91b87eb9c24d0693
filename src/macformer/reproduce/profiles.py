"""The profiles `make reproduce-lra` runs (smoke, cpu, paper), one home each:
conf/profile/<name>.yaml holds both the training settings and, under `reproduce:`, what
the driver runs with them (its sweep groups, seeds, isolation, run time limit, why).

The block is read straight from the file (no Hydra compose): its values are plain. Its
keys and their rules are those of macformer.checks.settings (`reproduce.*`), the table
`macformer-train` checks the composed block with, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from macformer.conf_dir import CONFIG_DIR

PROFILE_DIR = CONFIG_DIR / "profile"
BLOCK = "reproduce"


class ProfileError(ValueError):
    """A profile file whose `reproduce:` block is missing or bad: one line naming file and key."""


@dataclass(frozen=True)
class Profile:
    name: str
    groups: tuple[str, ...]  # the sweep groups it runs unless --sweep says otherwise
    seeds: tuple[int, ...]
    isolation: str  # "fork" (one warm driver, forked per run) or "subprocess" (fresh python)
    run_timeout_s: float | None  # a run taking longer is stopped and reported failed
    why: str


def block_rules() -> dict[str, object]:
    """key → rule of the block, from the checks' table (`reproduce.<key>`)."""
    from macformer.checks.settings import setting_rules

    return {key.split(".", 1)[1]: rule for key, rule in setting_rules().items()
            if key.startswith(BLOCK + ".")}


def read_block(path: Path) -> dict:
    """conf/profile/<name>.yaml's `reproduce:` block, checked (ProfileError: the first problem)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from macformer.checks.rules import problem

    try:
        node = OmegaConf.load(path).get(BLOCK)
        block = OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
    except (OmegaConfBaseException, OSError) as error:
        raise ProfileError(f"{path}: cannot be read: {str(error).splitlines()[0]}") from None
    rules = block_rules()
    if not isinstance(block, dict):
        raise ProfileError(f"{path}: no {BLOCK}: block (the driver's {', '.join(rules)})")
    for key in block:
        if key not in rules:
            raise ProfileError(f"{path}: {BLOCK}.{key} is not a driver setting; its settings: "
                               f"{', '.join(rules)}")
    for key, rule in rules.items():
        if key not in block:
            raise ProfileError(f"{path}: {BLOCK}.{key} is missing")
        if message := problem(f"{BLOCK}.{key}", block[key], rule):
            raise ProfileError(f"{path}: {message}")
    return block


def read_profiles(directory: Path = PROFILE_DIR) -> dict[str, Profile]:
    """name → Profile of every file in `directory`, in their `order` (smoke, cpu, paper)."""
    from macformer.checks.settings import profile_names

    profiles, orders = {}, {}
    for name in profile_names(directory):
        path = Path(directory, f"{name}.yaml")
        block = read_block(path)
        if (other := orders.setdefault(block["order"], name)) != name:  # the listing would be arbitrary
            raise ProfileError(f"{path}: {BLOCK}.order={block['order']} is {other}'s too; "
                               f"each profile needs its own")
        profiles[name] = Profile(name, tuple(block["groups"]), tuple(block["seeds"]),
                                 block["isolation"], block["run_timeout_s"], block["why"])
    return profiles


PROFILES: dict[str, Profile] = read_profiles()


def data_vars(profile: str) -> str:
    """`make data` variables for the sizes the profile generates ListOps / Pathfinder at."""
    from macformer.config import compose_run

    gen = compose_run([f"profile={profile}"]).generate
    # Reduced generated sets the profile trains on instead of LRA's (cpu).
    reduced = [d for d in (compose_run([f"profile={profile}", f"task={t}"]).data.dataset
                           for t in ("listops", "pathfinder")) if d != "lra"]
    out = (f"LISTOPS_TRAIN={gen.listops.n_train} LISTOPS_VAL={gen.listops.n_val} "
           f"LISTOPS_TEST={gen.listops.n_test} PATHFINDER_COUNT={gen.pathfinder.count}")
    args = (["--offline"] if profile == "smoke" else []) + (["--datasets", *reduced] if reduced else [])
    # smoke is a minute-long check: generate only, never download.
    # PROFILE_DATA_ARGS: the user's DATA_ARGS add to these (make data passes both).
    return out + (f' PROFILE_DATA_ARGS="{" ".join(args)}"' if args else "")
