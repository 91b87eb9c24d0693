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
    # "" for the form training uses on this device; else what differs: "causal",
    # "fused" / "reference" (a path not picked here), "compiled".
    form: str = ""

    @property
    def quadratic(self) -> bool:
        return self.attention in QUADRATIC


def variants(num_features: int, kernels=KERNELS, device: str = "cpu", compiled: bool = False) -> list[Variant]:
    """Every attention (rmfa with each kernel, non-causal, on the path the device picks),
    then the rmfa-exp forms: causal (Macformer's main row) and the paths not picked here
    (a GPU's triton default beside `fused` and `reference`; a CPU's reference default
    beside `fused`), and with `compiled` the fused path under torch.compile."""
    out = [Variant("softmax", "softmax"), Variant("softmax_materialized", "softmax_materialized"),
           Variant("kernelized-exp", "kernelized", "exp", {"kernel": "exp"}),
           Variant("rfa", "rfa", "", {"num_features": num_features, "seed": 0})]
    rmfa = {"num_features": num_features, "seed": 0}
    out += [Variant(f"rmfa-{k}", "rmfa", k, {"kernel": k, **rmfa}) for k in kernels]
    out.append(Variant("performer", "performer", "", {"num_features": num_features, "seed": 0}))
    out.append(Variant(f"{TARGET_VARIANT}-causal", "rmfa", "exp", {"kernel": "exp", "causal": True, **rmfa},
                       form="causal"))
    others = ("fused", "reference") if torch.device(device).type == "cuda" else ("fused",)
    out += [Variant(f"{TARGET_VARIANT}-{path}", "rmfa", "exp", {"kernel": "exp", "path": path, **rmfa}, form=path)
            for path in others]
    if compiled:
        # Unchunked (chunk_mb=0): the chunked form's Python loop over chunks would break the graph.
        out.append(Variant(f"{TARGET_VARIANT}-compiled", "rmfa", "exp",
                           {"kernel": "exp", "path": "fused", "chunk_mb": 0, **rmfa}, form="compiled"))
    return out


def build(var: Variant, head_dim: int, heads: int, device) -> torch.nn.Module:
    module = build_attention(var.attention, head_dim=head_dim, num_heads=heads, **var.options).to(device)
    # dynamic=None: the first length compiles statically, a second one once with
    # symbolic lengths, so a sweep over N compiles twice, not once per N.
    return torch.compile(module) if var.form == "compiled" else module
