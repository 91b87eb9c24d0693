"""`macformer-report --wandb`: one W&B run per profile, in the sweep's group, holding the
report: the accuracy, efficiency and published tables as W&B Tables, the plots and the
learning curves as images, and every run's validation curve as a table (one row per
task, row, seed and step) for W&B's own line plots.

The group is the sweep id the runs were trained under (run.sweep_id in each run's
.hydra/config.yaml: `reproduce-<profile>` for make reproduce-lra), so the report sits
beside its runs on the dashboard; `--wandb-group` names another.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

from .curves import read_curve
from .load import MISSING, Runs
from .variants import variant_label, variant_of, variants_of

TABLES = ("accuracy", "efficiency", "published")
CURVE_COLUMNS = ["task", "row", "seed", "step", "val_accuracy_pct"]


def sweep_group(runs: Runs, runs_dir: Path, profile: str) -> str:
    """The sweep id most of the profile's runs were trained under, else `report-<profile>`."""
    ids = Counter()
    for path in runs.frame["path"]:
        config = Path(runs_dir) / Path(path).parent / ".hydra" / "config.yaml"
        try:
            sweep_id = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("run", {}).get("sweep_id")
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        if sweep_id:
            ids[str(sweep_id)] += 1
    return ids.most_common(1)[0][0] if ids else f"report-{profile}"


def curve_rows(runs: Runs, runs_dir: Path) -> list[list]:
    """[task column, row label, seed, step, validation accuracy in %] for every run's curve."""
    variants = variants_of(runs)
    rows = []
    for _, run in runs.frame[runs.frame["status"] != MISSING].iterrows():
        label = variant_label(variant_of(run), variants)
        for step, accuracy in read_curve((Path(runs_dir) / run["path"]).parent):
            rows.append([run["column"], label, int(run["seed"]), step, accuracy])
    return rows


def upload_profile(runs: Runs, runs_dir: Path, folder: Path, profile: str, *,
                   project: str = "macformer-lra", group: str | None = None) -> Path:
    """Log the report in `folder` (one profile's) as a W&B run; returns the run's local
    folder (`<folder>/wandb/...-run-*`)."""
    import wandb

    from macformer.training.wandb_run import offline_unless_reachable

    part = runs.of_profile(profile)
    group = group or sweep_group(part, runs_dir, profile)
    offline_unless_reachable(folder / "wandb")  # a server out of reach: offline, one warning
    run = wandb.init(project=project, dir=str(folder), name=f"report-{profile}", group=group,
                     job_type="report", tags=["report", f"profile:{profile}", f"sweep:{group}"[:64]],
                     config={"profile": profile, "runs": len(part.frame), "runs_dir": str(runs_dir)})
    try:
        logged = {}
        for name in TABLES:
            path = folder / f"{name}.csv"
            if path.is_file():
                logged[f"tables/{name}"] = wandb.Table(dataframe=pd.read_csv(path, keep_default_na=False))
        for path in sorted(folder.glob("*.png")):
            section = "curves" if path.stem.startswith("curves_") else "plots"
            logged[f"{section}/{path.stem.removeprefix('curves_')}"] = wandb.Image(str(path))
        logged["curves/validation"] = wandb.Table(columns=CURVE_COLUMNS, data=curve_rows(part, runs_dir))
        run.log(logged)
        local = Path(run.dir).parent
    finally:
        run.finish()
    return local
