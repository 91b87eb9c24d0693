"""Every profile's sweep runs the Macformer rows in the authors' causal form and keeps the
non-causal form as an ablation row; the row names say the form, as the run labels do."""

import pytest

from macformer.reproduce.sweep import PROFILES, sweeps_of


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_macformer_rows_are_causal_with_a_non_causal_ablation(profile):
    groups = ("core", "ablations") if profile == "paper" else None  # paper: the ablations are a group
    rows = {row.name: row.overrides for s in sweeps_of(profile, groups) for row in s.rows}
    assert "rmfa-exp-causal" in rows and "kernelized-exp-causal" in rows
    assert "rmfa-exp-noncausal" in rows
    assert "attention.options.causal=false" in rows["rmfa-exp-noncausal"]
    for name, overrides in rows.items():
        if name.startswith(("rmfa", "kernelized")):
            assert name.endswith(("-causal", "-noncausal")), name
            assert ("attention.options.causal=false" in overrides) == name.endswith("-noncausal")


def test_row_names_match_the_run_labels():
    """A sweep row's name is the folder its runs land in (the run label)."""
    from hydra import compose, initialize_config_dir

    from macformer import config  # noqa: F401  (registers the resolvers)
    from macformer.conf_dir import CONFIG_DIR

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        for row in (r for s in sweeps_of("paper", ("core", "ablations", "pathx")) for r in s.rows):
            cfg = compose("train", overrides=["profile=paper", *row.overrides])
            assert cfg.run.label == row.name
