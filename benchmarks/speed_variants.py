"""The variants benchmarks/attention_speed.py measures, and how each is built."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from benchmarks.speed_targets import TARGET_VARIANT
from macformer.attention import KERNELS, build_attention

QUADRATIC = ("softmax", "softmax_materialized", "kernelized")


@dataclass(frozen=True)
class Variant:
    label: str
    attention: str
    kernel: str = ""
    options: dict = field(default_factory=dict)
    # "" for the form training uses on this device; else what differs: "causal", or
    # "reference" (the path a GPU does not pick).
    form: str = ""

    @property
    def quadratic(self) -> bool:
        return self.attention in QUADRATIC


def variants(num_features: int, kernels=KERNELS, device: str = "cpu") -> list[Variant]:
    """Every attention (rmfa with each kernel, non-causal, on the path the device picks),
    then the rmfa-exp forms: causal (Macformer's main row) and, on a GPU, the reference
    path beside the Triton default."""
    out = [Variant("softmax", "softmax"), Variant("softmax_materialized", "softmax_materialized"),
           Variant("kernelized-exp", "kernelized", "exp", {"kernel": "exp"}),
           Variant("rfa", "rfa", "", {"num_features": num_features, "seed": 0})]
    rmfa = {"num_features": num_features, "seed": 0}
    out += [Variant(f"rmfa-{k}", "rmfa", k, {"kernel": k, **rmfa}) for k in kernels]
    out.append(Variant("performer", "performer", "", {"num_features": num_features, "seed": 0}))
    out.append(Variant(f"{TARGET_VARIANT}-causal", "rmfa", "exp", {"kernel": "exp", "causal": True, **rmfa},
                       form="causal"))
    if torch.device(device).type == "cuda":
        out.append(Variant(f"{TARGET_VARIANT}-reference", "rmfa", "exp", {"kernel": "exp", "path": "reference",
                                                                           **rmfa}, form="reference"))
    return out


def build(var: Variant, head_dim: int, heads: int, device) -> torch.nn.Module:
    return build_attention(var.attention, head_dim=head_dim, num_heads=heads, **var.options).to(device)
