"""Tiles, warps and precision of the Triton RMFA kernels, timed side by side on a GPU.

    python benchmarks/triton_tuning.py --out results/gpu-speed [--precision-json P]

Forward + backward of rmfa-exp (non-causal and causal) at batch 32, 2 heads, head dim
32, D = 128, bf16 inputs, N = 4096, median of interleaved repeats, for each kernel
configuration; then the registers and spills of each kernel the best one compiled.
With --precision-json (from rmfa_precision.py), only precisions whose error stays
below a tenth of the estimator's spread (99th percentile of |err|/σ, output and dq,
both forms) compete for `best`, which is written as a MACFORMER_TRITON_CONFIG string.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from benchmarks.measure import time_ms  # noqa: E402
from macformer.attention import build_attention  # noqa: E402
from macformer.attention.rmf.triton_rmfa import KernelConfig, run_kernels  # noqa: E402

CONFIGS = [KernelConfig(block=b, feature_block=f, num_warps=w, backward_warps=bw, att=a)
           for b, f, w, bw, a in ((64, 32, 8, 8, "bf16x3"), (64, 32, 8, 8, "bf16"), (64, 32, 4, 8, "bf16"),
                                  (32, 32, 4, 4, "bf16x3"), (32, 32, 4, 4, "bf16"), (64, 64, 8, 8, "bf16"),
                                  (128, 32, 8, 8, "bf16"), (32, 16, 4, 4, "bf16"))]
WITHIN_SPREAD = 0.1  # p99 |err| / σ a precision may reach


def _within(ratio) -> bool:
    return ratio is not None and ratio <= WITHIN_SPREAD  # None: NaN in the JSON


def spec(config: KernelConfig) -> str:
    return (f"block={config.block},feature_block={config.feature_block},num_warps={config.num_warps},"
            f"backward_warps={config.backward_warps},att={config.att},proj_bf16={config.proj_bf16}")


def registers() -> list[dict]:
    """Registers and spills of every compiled Triton RMFA kernel (from Triton's cache)."""
    from macformer.attention.rmf import triton_backward, triton_kernels
    rows = []
    for fn in (triton_kernels._state_kernel, triton_kernels._output_kernel, triton_backward._backward_q_kernel,
               triton_backward._backward_kv_kernel):
        caches = getattr(fn, "device_caches", {})
        for entry in caches.values():
            for key, kernel in entry[0].items():
                try:
                    kernel._init_handles()
                    rows.append({"kernel": fn.__name__, "variant": str(key)[:60], "registers": kernel.n_regs,
                                 "spills": kernel.n_spills})
                except Exception as err:  # noqa: BLE001 (report, never stop the benchmark)
                    rows.append({"kernel": fn.__name__, "variant": str(err)[:60]})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/gpu-speed"))
    p.add_argument("--length", type=int, default=4096)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--precision-json", type=Path)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--configs", nargs="+", help="MACFORMER_TRITON_CONFIG strings (default: the built-in grid)")
    p.add_argument("--device", default="cuda", help="cpu runs the Triton interpreter (a wiring check)")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("needs a CUDA GPU (or --device cpu with TRITON_INTERPRET=1, a wiring check)")
    device = torch.device(args.device)
    configs = CONFIGS if device.type == "cuda" else [KernelConfig.for_device(device)]
    if args.configs:
        configs = [KernelConfig.parse(c) for c in args.configs]
    allowed = {"bf16x3", "bf16"} if device.type == "cuda" else {"ieee"}
    if args.precision_json:
        rows = json.loads(args.precision_json.read_text())
        allowed = {att for att in allowed
                   if all(_within(r["out: p99 |err|/σ"]) and _within(r["dq: p99 |err|/σ"])
                          for r in rows if r["att"] == att)}
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(args.batch, 2, args.length, 32, generator=g).to(device, torch.bfloat16).requires_grad_()
               for _ in range(3))
    steps = {}
    for causal in (False, True):
        attention = build_attention("rmfa", head_dim=32, num_heads=2, causal=causal, seed=0).to(device)
        for config in configs:
            tables = attention.features.triton_tables(config.feature_block)

            def step(attention=attention, config=config, tables=tables):
                run_kernels(q, k, v, None, tables, ppsbn=True, causal=attention.causal, denominator_floor=1.0,
                            config=config).sum().backward()
            try:
                step()
                steps[(spec(config), causal)] = step
            except Exception as err:  # noqa: BLE001 (a configuration that fails to compile is reported)
                print(f"failed: {spec(config)} causal={causal}: {err}"[:300], flush=True)
    times = {key: [] for key in steps}
    for _ in range(args.repeats):
        for key, step in steps.items():
            times[key].append(time_ms(step, device))
    table = pd.DataFrame([{"config": c, "form": "causal" if causal else "non-causal", "ms": statistics.median(t)}
                          for (c, causal), t in times.items()])
    wide = table.pivot_table(index="config", columns="form", values="ms", sort=False)
    wide["sum"] = wide.sum(axis=1)
    candidates = wide[[any(f"att={a}," in c for a in allowed) for c in wide.index]].dropna()
    best = candidates["sum"].idxmin() if not candidates.empty else None
    regs = pd.DataFrame(registers())
    breakdown = ""
    if best and device.type == "cuda":
        from torch.profiler import ProfilerActivity, profile
        for causal in (False, True):
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                steps[(best, causal)]()
                torch.cuda.synchronize()
            breakdown += (f"\n### {'causal' if causal else 'non-causal'}, one forward + backward\n\n```\n"
                          + prof.key_averages().table(sort_by="cuda_time_total", row_limit=14) + "\n```\n")
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu, Triton interpreter"
    text = (f"# Triton RMFA tuning ({name}), N = {args.length}, batch {args.batch}, bf16\n\n"
            f"Forward + backward ms, median of {args.repeats}.\n\n" + wide.round(3).to_markdown() +
            f"\n\nPrecisions within {WITHIN_SPREAD} σ: {', '.join(sorted(allowed)) or 'none'}; best: `{best}`\n\n"
            "## Registers and spills\n\n" + (regs.to_markdown(index=False) if not regs.empty else "(none)") + "\n"
            + ("\n## Where the time goes (best)\n" + breakdown if breakdown else ""))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "triton_tuning.md").write_text(text)
    if best:
        (args.out / "best_config.txt").write_text(best)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
