"""benchmarks/training_throughput.py at toy size: every row measured, ratios against softmax."""

import json

import pytest

from benchmarks import training_throughput


def test_rows_ratios_and_json(tmp_path, capsys):
    out = tmp_path / "t.json"
    training_throughput.main(["--length", "64", "--batch", "2", "--steps", "3", "--skip", "1",
                              "--attentions", "softmax,rmfa-causal", "--json", str(out)])
    rows = json.loads(out.read_text())["results"]
    assert [r["attention"] for r in rows] == ["softmax", "rmfa-causal"]
    assert rows[0]["speedup_vs_softmax"] == 1.0 and rows[1]["speedup_vs_softmax"] > 0
    assert "rmfa-causal" in capsys.readouterr().out


def test_unknown_attention_names_the_allowed_ones(capsys):
    with pytest.raises(SystemExit):
        training_throughput.main(["--attentions", "softmax,flash"])
    assert "allowed: softmax, rfa, performer, rmfa, rmfa-causal" in capsys.readouterr().err
