"""How precise the Triton RMFA products must be: each precision's effect on the output
and on dq, against the random-feature estimator's own spread (on a CUDA GPU).

    python benchmarks/rmfa_precision.py --out results/gpu-speed

For one input (fp32 q, k, v [B, H, N, d], ppSBN, exp kernel, D = 128), the output of
`--draws` independent feature draws in full fp32 gives, per element, the estimator's
standard deviation σ across draws. For the first draw, every precision configuration
(projections: fp32 or hi/lo bf16; attention products: fp32, hi/lo bf16 ×3, one bf16)
is compared with the fp32 result: |error| / σ, median and 99th percentile. An error
far below σ is invisible beside the estimator's own noise. The table also times each
configuration (forward + backward, N = 4096, batch 32).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from benchmarks.measure import time_ms  # noqa: E402
from macformer.attention import build_attention  # noqa: E402
from macformer.attention.rmf.triton_rmfa import KernelConfig, run_kernels  # noqa: E402

CONFIGS = {  # label -> (projections in hi/lo bf16, attention products)
    "fp32 / fp32": (False, "ieee"),
    "hi-lo bf16 / fp32": (True, "ieee"),
    "hi-lo bf16 / hi-lo bf16 x3": (True, "bf16x3"),
    "hi-lo bf16 / bf16": (True, "bf16"),
}


def run(attention, q, k, v, mask, config):
    tables = attention.features.triton_tables(config.feature_block)
    return run_kernels(q, k, v, mask, tables, ppsbn=attention.ppsbn, causal=attention.causal,
                       denominator_floor=attention.denominator_floor, config=config)


def errors(args, causal: bool) -> list[dict]:
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(args.batch, 2, args.length, 32, generator=g).to(device).requires_grad_()
               for _ in range(3))
    mask = torch.ones(args.batch, args.length, dtype=torch.bool, device=device)
    w = torch.randn(args.batch, 2, args.length, 32, generator=g).to(device)
    tiles = KernelConfig.for_device(device)
    exact = dataclasses.replace(tiles, proj_bf16=False, att="ieee")
    outs, dqs, first = [], [], None
    for seed in range(args.draws):
        attention = build_attention("rmfa", head_dim=32, num_heads=2, causal=causal, seed=seed).to(device)
        out = run(attention, q, k, v, mask, exact)
        (dq,) = torch.autograd.grad((out * w).sum(), q)
        outs.append(out.detach())
        dqs.append(dq)
        first = attention if first is None else first
    sigma_out, sigma_dq = torch.stack(outs).std(0), torch.stack(dqs).std(0)
    rows = []
    for label, (proj_bf16, att) in CONFIGS.items():
        config = dataclasses.replace(tiles, proj_bf16=proj_bf16, att=att)
        out = run(first, q, k, v, mask, config)
        (dq,) = torch.autograd.grad((out * w).sum(), q)
        row = {"form": "causal" if causal else "non-causal", "precision (projections / products)": label,
               "att": att, "proj_bf16": proj_bf16}
        for name, value, ref, sigma in (("out", out.detach(), outs[0], sigma_out), ("dq", dq, dqs[0], sigma_dq)):
            ratio = ((value - ref).abs() / sigma.clamp(min=1e-30)).flatten().float()
            ratio = ratio[torch.randperm(ratio.numel(), device=device)[:1_000_000]]
            row[f"{name}: median |err|/σ"] = float(ratio.median())
            row[f"{name}: p99 |err|/σ"] = float(ratio.quantile(0.99))
        row["ms fwd+bwd (N 4096, batch 32)"] = timing(first, config, device) if device.type == "cuda" else None
        rows.append(row)
    return rows


def timing(attention, config, device) -> float:
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(32, 2, 4096, 32, generator=g).to(device, torch.bfloat16).requires_grad_()
               for _ in range(3))

    def step():
        run(attention, q, k, v, None, config).sum().backward()

    step()
    return sorted(time_ms(step, device) for _ in range(7))[3]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/gpu-speed"))
    p.add_argument("--draws", type=int, default=16)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--length", type=int, default=2048)
    p.add_argument("--device", default="cuda",
                   help="cpu runs the Triton interpreter (a wiring check: its bf16 products are not exact)")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("needs a CUDA GPU (or --device cpu with TRITON_INTERPRET=1, a wiring check)")
    table = pd.DataFrame([r for causal in (False, True) for r in errors(args, causal)])
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu, Triton interpreter"
    text = (f"# RMFA precision against the estimator's spread ({name})\n\n"
            f"σ: standard deviation over {args.draws} feature draws, per element; batch {args.batch}, "
            f"N = {args.length}, fp32 inputs.\n\n" + table.to_markdown(index=False, floatfmt=".3g") + "\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rmfa_precision.md").write_text(text)
    (args.out / "rmfa_precision.json").write_text(table.to_json(orient="records", force_ascii=False))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
