"""A run on a reduced set generates it where it belongs and says so in its summary."""

from training_helpers import train_smoke


def test_run_records_the_reduced_set_it_trained_on(tmp_path):
    summary = train_smoke(tmp_path / "data", tmp_path / "results", "task=listops", "attention=rmfa",
                          "data.dataset=listops-short")
    assert summary["status"] == "completed"
    assert summary["dataset"] == "listops-short" and summary["causal"] is True
    assert summary["protocol"] == "lra"
    assert (tmp_path / "data" / "generated" / "listops-short" / "GENERATED.json").is_file()
    assert not (tmp_path / "data" / "lra_release").exists()
