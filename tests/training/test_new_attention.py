"""An attention added in one place (its class under @register_attention, plus one YAML)
appears in the config, the checks, the sweep, the run label, the summary and the report."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from training_helpers import smoke_overrides

from hydra_plugins.macformer_sweeper.dedupe import dedupe_jobs
from macformer.attention import ATTENTION_REGISTRY, register_attention

YAML = """name: toy
options:
  kernel: ${kernel.name}
  causal: true
"""


class ToyAttention(nn.Module):
    """Each position receives the mean value of the real tokens (kernel unused: a stand-in)."""

    def __init__(self, head_dim: int, num_heads: int, kernel: str = "exp", causal: bool = False,
                 num_features: int = 16):
        super().__init__()
        self.kernel, self.causal = kernel, causal

    def attention_weights(self, q, k, key_padding_mask=None):
        """[batch, heads, query, key]: uniform over the real keys (what the diagnostics read)."""
        real = torch.ones(k.shape[:3], dtype=k.dtype) if key_padding_mask is None else (
            key_padding_mask[:, None, :].expand(k.shape[:3]).to(k.dtype))
        weights = real / real.sum(-1, keepdim=True).clamp(min=1)
        return weights[:, :, None, :].expand(-1, -1, q.shape[2], -1)

    def forward(self, q, k, v, key_padding_mask=None):
        return self.attention_weights(q, k, key_padding_mask) @ v


@pytest.fixture
def toy(tmp_path):
    register_attention("toy")(ToyAttention)
    (tmp_path / "conf" / "attention").mkdir(parents=True)
    (tmp_path / "conf" / "attention" / "toy.yaml").write_text(YAML)
    yield f"hydra.searchpath=[file://{tmp_path / 'conf'}]"
    del ATTENTION_REGISTRY["toy"]


def test_a_registered_attention_runs_and_is_named_everywhere(toy, lra_data, tmp_path):
    from training_helpers import train_smoke

    from macformer.report import load_runs
    from macformer.report.variants import variant_label, variants_of
    from macformer.reproduce.sweep import row

    # The sweeper knows it has a kernel: kernel values are kept for it, dropped for softmax.
    jobs = [[f"attention={a}", f"kernel={k}"] for a in ("softmax", "toy") for k in ("exp", "log")]
    assert dedupe_jobs(jobs, "rmfa") == [["attention=softmax"], ["attention=toy", "kernel=exp"],
                                         ["attention=toy", "kernel=log"]]
    assert row("toy", "log").name == "toy-log-causal"

    summary = train_smoke(lra_data, tmp_path / "results", toy, "task=text", "attention=toy", "kernel=log")
    assert summary["status"] == "completed", summary["error"]
    assert (summary["attention"], summary["kernel"], summary["causal"]) == ("toy", "log", True)
    assert summary["num_features"] == 16 and summary["ppsbn"] is None
    assert summary["run_dir"].endswith("smoke/text/toy-log-causal/seed0")

    runs = load_runs(tmp_path / "results" / "runs")
    [variant] = variants_of(runs)
    assert variant_label(variant) == "toy-log (causal)"


def test_the_checks_know_its_options(toy, tmp_path):
    from training_helpers import compose_cfg

    from macformer.checks import check_config
    from macformer.checks.errors import ConfigError

    overrides = smoke_overrides(tmp_path, tmp_path, toy, "attention=toy", "attention.options.kernel=cosine")
    with pytest.raises(ConfigError, match="attention.options.kernel='cosine'.*allowed values: exp"):
        check_config(compose_cfg(overrides), overrides)
