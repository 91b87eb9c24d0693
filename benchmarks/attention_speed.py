"""Time and peak memory of every attention variant against sequence length.

    python benchmarks/attention_speed.py                  # full grid -> results/bench/
    python benchmarks/attention_speed.py --quick          # reduced grid, under a minute
    python benchmarks/attention_speed.py --device cuda    # CUDA events, max_memory_allocated

What is measured, for each shape (batch, heads, head_dim), sequence length and mode:
- `forward`: one forward call under `torch.no_grad()` (inference);
- `forward_backward`: forward, then backward of `out.sum()` into q, k, v and the
  module's parameters (training).
All variants see the same float32 q, k, v (drawn once per length) and the same key
padding mask (each sequence keeps a random length in [N/2, N], as padded LRA batches
do). Variants: softmax (PyTorch's SDPA), softmax_materialized (the N x N form
of the LRA ports), kernelized (exact, exp kernel, O(N^2)), rfa, rmfa for each of the
five kernels (ppSBN on, as trained), performer. Random-feature variants use
`--num-features` (128, the authors' D) features.

Fairness: per (shape, length, mode), every variant first runs once under the memory
profiler (that run is the warm-up and gives peak memory, see benchmarks/measure.py),
then `--repeats` timed rounds interleave the variants, rotating which goes first, so
that slow drifts of a shared machine hit all of them alike. We report the median.

Threads: CPU runs use `--threads` (default 1) intra-op threads, recorded in every
row's `device`. One is the default because this machine's 2 cores are shared: with
2 OpenMP threads, every op waits at a barrier for a thread the OS has parked, which
inflated every elementwise op to ~8 ms in our profiles and made timings meaningless.

Grid: lengths 512 ... 16384 at head dim 32 (the LRA shape of the authors' code) and
512 ... 8192 at head dim 64 (`--large-head-max-len`); 32768 (`--extra-lengths`) for
rfa, rmfa-exp and performer at head dim 32. The rmfa kernels other than exp differ
only in their coefficients (identical cost); at the larger head size only exp is
timed unless `--all-kernels-every-shape`. A quadratic variant (softmax,
softmax_materialized, kernelized) whose predicted forward+backward time (the previous
length's x 4; linear variants x 2) exceeds `--max-call-s`, or whose predicted peak
memory exceeds `--max-memory-gb`, is skipped at that length and every longer one; a
skip is reported, never silently dropped. A call whose warm-up took longer than
`--long-call-s` gets a single timed repeat (its own noise is small against its
length). `--targets` runs only what the speed targets need.

Outputs in --out: attention_speed.csv, attention_speed_time.png,
attention_speed_memory.png, attention_speed.md (speed-up and memory tables relative
to softmax, the speed targets as PASS/FAIL, skipped cells). The target table is
also printed at the end of every run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402

from benchmarks.measure import device_label, peak_memory_mb, time_ms  # noqa: E402
from benchmarks.speed_plots import plot  # noqa: E402
from benchmarks.speed_report import MODES, write_report  # noqa: E402
from benchmarks.speed_targets import REFERENCE, TARGET_COLUMNS, TARGET_VARIANT, targets  # noqa: E402
from benchmarks.speed_variants import build, variants  # noqa: E402
from macformer.allocator import allocator_label, keep_freed_memory  # noqa: E402

COLUMNS = ["attention", "kernel", "variant", "form", "seq_len", "batch", "heads", "head_dim",
           "num_features", "dtype", "mode", "ms", "ms_min", "ms_max", "repeats", "peak_mb", "threads",
           "device"]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def make_inputs(batch, heads, seq_len, head_dim, device, seed=0, dtype=torch.float32):
    """q, k, v [B, H, N, d] (leaf tensors of `dtype`, requires_grad) and a [B, N] padding mask."""
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, seq_len, head_dim, generator=g).to(device, dtype).requires_grad_()
               for _ in range(3))
    lengths = torch.randint(seq_len // 2, seq_len + 1, (batch,), generator=g)
    lengths[0] = seq_len  # at least one full sequence, as a padded batch has
    mask = (torch.arange(seq_len)[None, :] < lengths[:, None]).to(device)  # True = real token
    return q, k, v, mask


def make_step(module, mode, q, k, v, mask):
    if mode == "forward":
        def step():
            with torch.no_grad():
                module(q, k, v, mask)
    else:
        def step():
            for t in (q, k, v):
                t.grad = None
            module.zero_grad(set_to_none=True)
            module(q, k, v, mask).sum().backward()
    return step


def run(args) -> tuple[pd.DataFrame, list[str]]:
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
        if not args.system_allocator:
            keep_freed_memory()
    label = device_label(device)
    if device.type == "cpu":
        label += f", allocator: {allocator_label()}"
    memory_limit_mb = args.max_memory_gb * 1024
    rows, skipped = [], []
    all_variants = variants(args.num_features, device=args.device)
    dtype = DTYPES[args.dtype]
    for shape_index, head_dim in enumerate(args.head_dims):
        shape = (args.batch, args.heads, head_dim)
        chosen = [v for v in all_variants
                  if (not args.variants or v.label in args.variants)
                  and (shape_index == 0 or args.all_kernels_every_shape
                       or not (v.attention == "rmfa" and v.kernel != "exp"))]
        modules = {v.label: build(v, head_dim, args.heads, device) for v in chosen}
        last: dict[tuple[str, str], tuple[int, float, float]] = {}  # (variant, mode) -> N, ms, MB
        dropped: set[str] = set()
        lengths = [n for n in args.lengths if shape_index == 0 or n <= args.large_head_max_len]
        if shape_index == 0:
            lengths += [n for n in args.extra_lengths if n not in lengths]
        for seq_len in lengths:
            q, k, v, mask = make_inputs(*shape[:2], seq_len, head_dim, device, dtype=dtype)
            active = []
            for var in chosen:
                if var.label in dropped:
                    continue
                if seq_len not in args.lengths and var.label not in args.extra_variants:
                    continue
                why = _predicted_too_big(var, seq_len, last, args.max_call_s, memory_limit_mb)
                if why:
                    dropped.add(var.label)
                    skipped.append(f"{var.label}, head_dim {head_dim}: from N = {seq_len} on ({why})")
                    continue
                active.append(var)
            for mode in MODES:
                steps = {var.label: make_step(modules[var.label], mode, q, k, v, mask) for var in active}
                peaks, times, repeats = {}, {lab: [] for lab in steps}, {}
                for lab, step in list(steps.items()):
                    try:
                        started = time.perf_counter()
                        peaks[lab] = peak_memory_mb(step, device)  # also the warm-up
                        long_call = time.perf_counter() - started > args.long_call_s
                        repeats[lab] = 1 if long_call else args.repeats
                    except (torch.OutOfMemoryError, RuntimeError) as err:  # noqa: B014
                        skipped.append(f"{lab}, head_dim {head_dim}, N = {seq_len}, {mode}: failed ({err})")
                        dropped.add(lab)
                        del steps[lab], times[lab]
                        if device.type == "cuda":
                            torch.cuda.empty_cache()
                order = list(steps)
                for r in range(args.repeats):
                    shift = r % max(len(order), 1)
                    for lab in order[shift:] + order[:shift]:
                        if r < repeats[lab]:
                            times[lab].append(time_ms(steps[lab], device))
                for var in active:
                    if var.label not in steps:
                        continue
                    ts = times[var.label]
                    ms = statistics.median(ts)
                    last[(var.label, mode)] = (seq_len, ms, peaks[var.label])
                    rows.append(dict(attention=var.attention, kernel=var.kernel, variant=var.label,
                                     form=var.form, seq_len=seq_len, batch=args.batch, heads=args.heads,
                                     head_dim=head_dim,
                                     num_features=var.options.get("num_features", 0), dtype=args.dtype,
                                     mode=mode, ms=ms, ms_min=min(ts), ms_max=max(ts),
                                     repeats=len(ts), peak_mb=peaks[var.label],
                                     threads=torch.get_num_threads(), device=label))
                if args.verbose:
                    print(f"[head_dim {head_dim}, N {seq_len:>6}, {mode:>16}] " + ", ".join(
                        f"{lab} {statistics.median(times[lab]):.1f} ms" for lab in order), flush=True)
            del q, k, v, mask
    return pd.DataFrame(rows, columns=COLUMNS), skipped


def _predicted_too_big(var, seq_len, last, max_call_s, memory_limit_mb) -> str | None:
    known = last.get((var.label, "forward_backward"))
    if known is None:
        return None
    n0, ms, mb = known
    power = 2 if var.quadratic else 1
    growth = (seq_len / n0) ** power
    if ms * growth > max_call_s * 1e3:
        return f"predicted {ms * growth / 1e3:.0f} s per forward+backward > --max-call-s {max_call_s:g}"
    if mb * growth > memory_limit_mb:
        return f"predicted peak {mb * growth / 1024:.1f} GiB > --max-memory-gb {memory_limit_mb / 1024:.1f}"
    return None


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/bench"))
    p.add_argument("--quick", action="store_true", help="reduced grid (under a minute), for tests")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", choices=list(DTYPES), default="float32",
                   help="q, k, v dtype (softmax's SDPA then takes its 16-bit flash kernel on a GPU; "
                        "the random-feature attentions compute in float32 inside)")
    p.add_argument("--gpu-targets", action="store_true",
                   help="only what the GPU targets need: batch 32, head dim 32, N = 1K ... 64K")
    p.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                   help="torch intra-op threads on CPU (default: 2, the cores of the reference "
                        "machine; use 1 when other jobs share the cores)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--head-dims", type=int, nargs="+", default=[32, 64])
    p.add_argument("--num-features", type=int, default=128)
    p.add_argument("--lengths", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192, 16384])
    p.add_argument("--extra-lengths", type=int, nargs="*", default=[32768],
                   help="longer lengths, first head dim only, for --extra-variants only")
    p.add_argument("--extra-variants", nargs="*", default=["rfa", TARGET_VARIANT, "performer"])
    p.add_argument("--large-head-max-len", type=int, default=8192,
                   help="longest length measured at the head dims after the first")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--long-call-s", type=float, default=5.0,
                   help="a call whose warm-up took longer gets one timed repeat")
    p.add_argument("--max-call-s", type=float, default=40.0)
    p.add_argument("--max-memory-gb", type=float, default=None,
                   help="default: half the free RAM (CPU) or of the GPU's memory")
    p.add_argument("--all-kernels-every-shape", action="store_true")
    p.add_argument("--variants", nargs="+", default=None,
                   help="labels to run (default: all), e.g. softmax rfa rmfa-exp")
    p.add_argument("--system-allocator", action="store_true",
                   help="keep glibc's default malloc (it returns freed memory to the OS, so large "
                        "tensors page-fault in again on every op); see macformer/allocator.py")
    p.add_argument("--targets", action="store_true",
                   help="only the lengths and variants the speed targets need (head dim 32, N = 4K, 8K, 16K)")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.lengths, args.head_dims, args.repeats = [256, 512, 1024], [32, 64], 2
        args.extra_lengths = [2048]
    if args.targets:
        args.lengths, args.head_dims, args.extra_lengths = [4096, 8192, 16384], [32], []
        args.variants = [REFERENCE, "rfa", "performer", TARGET_VARIANT, f"{TARGET_VARIANT}-causal"]
    if args.gpu_targets:
        args.lengths, args.head_dims, args.batch = [1024, 2048, 4096, 8192, 16384], [32], 32
        args.extra_lengths = [32768, 65536]
        args.variants = [REFERENCE, "rfa", "performer", TARGET_VARIANT, f"{TARGET_VARIANT}-causal",
                         f"{TARGET_VARIANT}-reference"]
        args.extra_variants = [v for v in args.variants if v != REFERENCE]
    if args.max_memory_gb is None:
        if args.device.startswith("cuda"):
            total = torch.cuda.get_device_properties(torch.device(args.device)).total_memory
        else:
            total = psutil.virtual_memory().available
        args.max_memory_gb = total / 2 / 2**30
    return args


def main(argv=None) -> pd.DataFrame:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    df, skipped = run(args)
    df.to_csv(args.out / "attention_speed.csv", index=False)
    plot(df, "ms", "time per call (ms)", args.out / "attention_speed_time.png")
    plot(df, "peak_mb", "peak memory of the call (MiB)", args.out / "attention_speed_memory.png")
    found = targets(df)
    write_report(df, skipped, found, args.out, args)
    print(pd.DataFrame([t.row() for t in found], columns=TARGET_COLUMNS).to_markdown(index=False))
    for s in skipped:
        print("skipped:", s)
    print(f"wrote {args.out}/attention_speed.csv, .md and two plots ({df.device.iloc[0]})")
    return df


if __name__ == "__main__":
    main()
