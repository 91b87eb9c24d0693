"""The committed cpu report is rebuilt byte for byte from the run records committed beside
it (results/cpu/runs/), and a report over two environments never sets their speeds side by
side as if they were comparable."""

from pathlib import Path

from report_summaries import summary, write_summaries

from macformer.report import build_report

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "results" / "cpu"
TABLES = ("accuracy.md", "accuracy.csv", "efficiency.md", "efficiency.csv", "published.md",
          "published.csv", "spt.md", "spt.csv", "provenance.csv")


def test_the_committed_cpu_report_is_rebuilt_byte_for_byte_from_its_run_records(tmp_path):
    records = sorted((COMMITTED / "runs").rglob("summary.json"))
    assert records, f"no run records under {COMMITTED / 'runs'}: the committed tables cannot be rebuilt"
    build_report(COMMITTED / "runs", tmp_path, profile="cpu")
    for name in TABLES:
        rebuilt, committed = (tmp_path / "cpu" / name).read_bytes(), (COMMITTED / name).read_bytes()
        assert rebuilt == committed, f"{name} rebuilt from results/cpu/runs differs from the committed one"
    assert not list((COMMITTED / "runs").rglob("*.ckpt"))  # checkpoints never committed


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_report_built_from_the_committed_records_copies_them_unchanged(tmp_path):
    # A copy of a copy: every record (the command line in overrides.yaml, the pretraining
    # curve too) survives a rebuild, so a second rebuild cannot drift from the first.
    build_report(COMMITTED / "runs", tmp_path, profile="cpu")
    committed, copied = _files(COMMITTED / "runs"), _files(tmp_path / "cpu" / "runs")
    assert sorted(copied) == sorted(committed)
    assert [name for name in committed if committed[name] != copied[name]] == []
    assert any(name.endswith("/overrides.yaml") for name in committed)
    assert any(name.endswith("pretrain/csv/metrics.csv") for name in committed)


def _environment(torch_version: str) -> dict:
    return {"python": "3.11.7", "torch": torch_version, "torch_build": "cpu", "cuda": None, "cudnn": None,
            "triton": None, "pytorch_lightning": "2.6.6", "hydra_core": "1.3.8", "numpy": "2.4.6",
            "datasets": None, "wandb": None, "os": "Linux", "cpu_model": "Xeon", "cpu_count": 2,
            "threads": 2, "gpu": None}


def test_two_environments_are_marked_not_comparable_and_never_averaged(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(environment=_environment("2.13.0+cpu")),
        "cpu/listops/softmax/seed1": summary(seed=1, environment=_environment("2.14.0+cpu"),
                                             train_tokens_per_second=3000.0),
    })
    build_report(runs, tmp_path / "out", profile="cpu")
    efficiency = (tmp_path / "out" / "cpu" / "efficiency.md").read_text()
    assert "not comparable across rows" in efficiency
    assert "2.13.0+cpu" in efficiency and "2.14.0+cpu" in efficiency
    assert "1,000" in efficiency and "3,000" in efficiency and "2,000" not in efficiency  # one row each
    accuracy = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    assert "environment E1" in accuracy and "environment E2" in accuracy
