"""The ListOps paper protocol, the Macformer rows beside the baselines, side by side on one GPU.

Runs five rows of the paper profile at once (one process each; a model this small
leaves a large GPU mostly idle, so they share it well), then writes the report
(accuracy table and learning curves). Rows: softmax, rfa, rmfa-exp-causal (Macformer as
its authors ran it), rmfa-exp-noncausal (the ablation) and kernelized-exp-causal (the
exact kernel, RMFA's D → ∞ limit). Each run is capped by `--time-limit` (a run that
hits it is recorded `stopped`, never as a result, and a re-run continues it).

    .venv/bin/python benchmarks/gpu_listops_check.py                 # ~10 minutes on an H100
    .venv/bin/python benchmarks/gpu_listops_check.py --dry-run       # print the commands
    .venv/bin/python benchmarks/gpu_listops_check.py --profile smoke --time-limit 0  # CPU wiring check
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROWS: dict[str, tuple[str, ...]] = {
    "softmax": ("attention=softmax",),
    "rfa": ("attention=rfa",),
    "rmfa-exp-causal": ("attention=rmfa", "kernel=exp"),
    "rmfa-exp-noncausal": ("attention=rmfa", "kernel=exp", "attention.options.causal=false"),
    "kernelized-exp-causal": ("attention=kernelized", "kernel=exp"),
}


def commands(args) -> list[list[str]]:
    common = [f"profile={args.profile}", "task=listops", f"seed={args.seed}",
              f"paths.data_dir={args.data_dir}", f"paths.results_dir={args.results_dir}",
              "trainer.enable_progress_bar=false", *args.overrides]
    if args.profile == "paper":
        common.append("trainer=gpu")
    if args.time_limit:
        minutes, seconds = divmod(int(args.time_limit), 60)
        common.append(f"+trainer.max_time=00:00:{minutes:02d}:{seconds:02d}")
    return [[sys.executable, "-m", "macformer.train", *common, *ROWS[row]] for row in args.rows]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="paper", choices=["paper", "cpu", "smoke"])
    p.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default="data")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--time-limit", type=float, default=540,
                   help="seconds of training per run (0: none); a run that hits it is recorded `stopped`")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run")
    args = p.parse_args(argv)
    cmds = commands(args)
    if args.dry_run:
        print("\n".join(" ".join(c) for c in cmds))
        return 0
    if args.profile == "paper":
        # Generate ListOps once, before the runs start (each would otherwise wait on the lock).
        subprocess.run([sys.executable, "-m", "macformer.data.prepare", "--data-dir", args.data_dir,
                        "--only", "listops"], check=True)
    logs = Path(args.results_dir) / "gpu_check"
    logs.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    procs = []
    for row, cmd in zip(args.rows, cmds, strict=True):
        log = open(logs / f"{row}.log", "w")
        procs.append((row, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log))
        print(f"started {row}: log {logs / (row + '.log')}", flush=True)
    for row, proc, log in procs:
        code = proc.wait()
        log.close()
        print(f"{row}: exit {code} after {time.monotonic() - start:.0f} s", flush=True)
    failed = []
    print(f"{'row':24} {'status':11} {'steps':>11} {'val %':>6} {'test %':>6}")
    for row in args.rows:
        path = Path(args.results_dir) / "runs" / args.profile / "listops" / row / f"seed{args.seed}" / "summary.json"
        summary = json.loads(path.read_text()) if path.is_file() else {"status": "no summary"}
        if summary.get("status") != "completed":
            failed.append(row)
        pct = lambda x: "—" if x is None else f"{100 * x:.2f}"  # noqa: E731
        print(f"{row:24} {summary.get('status'):11} {summary.get('steps', 0):>5}/{summary.get('max_steps', 0):<5} "
              f"{pct(summary.get('val_accuracy')):>6} {pct(summary.get('test_accuracy')):>6}")
    subprocess.run([sys.executable, "-m", "macformer.report", "--runs", f"{args.results_dir}/runs",
                    "--out", args.results_dir, "--profile", args.profile], check=False)
    print(f"report: {args.results_dir}/{args.profile}/ (accuracy.md, curves_listops.png)")
    if failed:
        print(f"not completed: {', '.join(failed)} (see their logs and summary.json; a `stopped` run "
              f"continues when the same command runs again)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
