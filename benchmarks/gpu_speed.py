"""The GPU speed check in one command: the attention table and the training table.

    make gpu-speed                    # = python benchmarks/gpu_speed.py --out results/gpu-speed
    python benchmarks/gpu_speed.py --device cpu --quick --out /tmp/gpu-speed   # the script itself, on a CPU

1. `attention_speed.py --gpu-targets --dtype bfloat16`: softmax (SDPA, its 16-bit
   flash kernel), rfa, performer, rmfa-exp (non-causal) and rmfa-exp-causal on the
   default path (Triton) and rmfa-exp-reference (the eager grouped feature map) at
   batch 32, 2 heads, head dim 32, N = 1K ... 64K, forward + backward, median of
   interleaved repeats.
2. The kernels each variant launches per forward + backward at N = 4096.
3. `training_throughput.py` at N = 2048 (ListOps) and 4096 (Text's length): the
   ListOps model's training tokens/s per attention, 16-bit mixed precision.

Writes <out>/gpu_speed.md (the tables and every target, PASS/FAIL), the attention
benchmark's csv/md/plots and training.json; prints the tables. About a minute on one
H100/H200 (45 s measured on an H200).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from benchmarks import attention_speed, training_throughput  # noqa: E402
from benchmarks.measure import kernel_count  # noqa: E402
from benchmarks.speed_variants import build, variants  # noqa: E402

TRAINING_LABELS = ("softmax", "rfa", "performer", "rmfa", "rmfa-causal")
LAUNCH_VARIANTS = ("softmax", "performer", "rmfa-exp", "rmfa-exp-causal", "rmfa-exp-reference")
# (length, least rmfa / softmax training tokens/s)
TRAINING_TARGETS = ((2048, 1.0), (4096, 1.5))


def attention_args(args) -> list[str]:
    out = ["--device", args.device, "--dtype", args.dtype, "--out", str(args.out), "--verbose"]
    if args.quick:  # the same variants at toy sizes, to check the script on a CPU
        variants = ["softmax", "rfa", "performer", "rmfa-exp", "rmfa-exp-causal"]
        return out + ["--lengths", "128", "256", "--extra-lengths", "512", "--head-dims", "32", "--batch", "2",
                      "--repeats", "2", "--variants", *variants, "--extra-variants", *variants[1:]]
    return out + ["--gpu-targets"]


def launch_table(args) -> pd.DataFrame:
    """Kernels per forward + backward of each variant (CUDA kernels; CPU: leaf ops)."""
    device = torch.device(args.device)
    n, batch = (256, 2) if args.quick else (4096, 32)
    q, k, v, mask = attention_speed.make_inputs(batch, 2, n, 32, device, dtype=attention_speed.DTYPES[args.dtype])
    rows = {}
    for var in variants(128, device=args.device):
        if var.label in LAUNCH_VARIANTS:
            step = attention_speed.make_step(build(var, 32, 2, device), "forward_backward", q, k, v, mask)
            step()  # compile and warm up first
            rows[var.label] = kernel_count(step, device)
    what = "CUDA kernels" if device.type == "cuda" else "leaf ops (CPU)"
    return pd.DataFrame({f"{what} per forward + backward, N = {n}": rows})


def training_rows(args) -> list[dict]:
    lengths = (128,) if args.quick else tuple(n for n, _ in TRAINING_TARGETS)
    batch, steps, skip = (2, 3, 1) if args.quick else (32, 12, 4)
    rows = []
    for length in lengths:
        for label in TRAINING_LABELS:
            print(f"training throughput: {label}, N = {length}", flush=True)
            rows.append(training_throughput.measure(label, length, batch, steps, skip))
    return rows


def training_table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    base = df[df.attention == "softmax"].set_index("length").train_tokens_per_second
    df["x_softmax"] = df.train_tokens_per_second / df.length.map(base)
    table = pd.DataFrame(index=list(dict.fromkeys(df.attention)))
    for length, part in df.groupby("length"):
        part = part.set_index("attention")
        table[f"tokens/s, N = {length}"] = part.train_tokens_per_second.round(0)
        table[f"× softmax, N = {length}"] = part.x_softmax.round(2)
        table[f"peak MiB, N = {length}"] = part.peak_memory_mb.round(0)
    return table


def training_targets(rows: list[dict], on_gpu: bool) -> list[list[str]]:
    df = pd.DataFrame(rows).set_index(["attention", "length"]).train_tokens_per_second
    out = []
    for length, need in TRAINING_TARGETS:
        for label in ("rmfa", "rmfa-causal"):
            try:
                value = df[(label, length)] / df[("softmax", length)]
            except KeyError:
                out.append([f"training tokens/s, {label} / softmax, N = {length}", "gpu", "—", f">= {need:g}",
                            "n/a (not measured)"])
                continue
            verdict = ("PASS" if value >= need else "FAIL") if on_gpu else "n/a (a gpu target)"
            out.append([f"training tokens/s, {label} / softmax, N = {length}", "gpu", f"{value:.2f}",
                        f">= {need:g}", verdict])
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/gpu-speed"))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bfloat16", choices=list(attention_speed.DTYPES))
    parser.add_argument("--quick", action="store_true", help="toy sizes (checks the script on a CPU)")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda, but torch sees no CUDA device (use --device cpu --quick to try the script)")
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    df = attention_speed.main(attention_args(args))
    launches = launch_table(args)
    rows = training_rows(args)
    (args.out / "training.json").write_text(json.dumps(rows, indent=2))
    on_gpu = args.device.startswith("cuda")
    attention_targets = [t.row() for t in attention_speed.targets(df)]
    targets = pd.DataFrame(attention_targets + training_targets(rows, on_gpu),
                           columns=attention_speed.TARGET_COLUMNS)
    trained = df[(df["mode"] == "forward_backward") & (df.head_dim == 32)]
    time_table, memory_table = (trained.pivot_table(index="variant", columns="seq_len", values=column, sort=False)
                                for column in ("ms", "peak_mb"))
    shape = f"batch {df.batch.iloc[0]}, {df.heads.iloc[0]} heads, head dim 32, D = {df.num_features.max()}"
    text = "\n".join([
        f"# GPU speed check ({df.device.iloc[0]}, {args.dtype} attention inputs)", "",
        f"## Attention, forward + backward, ms ({shape})", "",
        time_table.round(2).to_markdown(), "",
        "## Attention, forward + backward, peak MiB", "", memory_table.round(1).to_markdown(), "",
        "## Kernel launches", "", launches.to_markdown(), "",
        "## Training the ListOps model: tokens/s and × softmax", "",
        training_table(rows).to_markdown(), "",
        "## Targets", "", targets.to_markdown(index=False), "",
        f"Wall time of this check: {time.perf_counter() - started:.0f} s.", ""])
    (args.out / "gpu_speed.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
