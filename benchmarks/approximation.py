"""How well random Maclaurin features approximate each kernel, with and without ppSBN.

    python benchmarks/approximation.py                # full grid -> results/toy/
    python benchmarks/approximation.py --quick        # reduced grid, under a minute

Three experiments (the paper's toy experiments, which we could not see, rebuilt):

1. Kernel-matrix error. For q, k scaled exactly as RMFA scales them
   (`scale_queries_keys`: ppSBN pre-scaling when on, then x d^-1/4), the relative
   Frobenius error ||phi(Q) phi(K)^T - f(Q K^T)|| / ||f(Q K^T)|| against the EXACT
   kernel f, for every kernel, ppSBN on/off, D in --features, several seeds.
   Beside it, the error theory predicts (dashed in the plot), from the variance
   formula below: E||err||^2 = sum_ij Var[phi(q_i).phi(k_j)] + sum_ij (f_trunc - f)^2
   (the second term is the bias of truncating the series at max_degree).
2. Output error: || RMFA(Q, K, V) - kernelized(Q, K, V) || / || kernelized(Q, K, V) ||,
   both built by `build_attention` (same kernel, same ppSBN, γ = 1 at initialisation).
3. Variance against theory (below), over many independent draws.

Inputs: (a) `gaussian`: q, k, v with i.i.d. N(0, 1) entries; (b) `model`: q, k, v that
the project's ListOps encoder feeds its first attention (benchmarks/model_inputs.py;
at initialisation unless --checkpoint). One sequence, 2 heads of 32, --seq-len tokens.

Outside the radius of convergence. Without ppSBN, |q.k| can reach 1, where inverse,
log and sqrt have no convergent series. We show what happens rather than hide it:
`max_abs_qk` and `outside_radius_frac` say how far out the inputs are; where f itself
is undefined (q.k >= 1) `relative_error` is empty and `series_error` (against the
truncated series, always defined) shows how far the estimate has wandered; `status`
records RMFA's documented guard (a ValueError naming kernel and radius) and any
non-finite estimate (`overflow`).

The variance of the estimator and its check: benchmarks/rmf_variance.py.

Outputs in --out: approximation.csv, variance_check.csv, approximation_kernel_error.png,
approximation_output_error.png, approximation.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from benchmarks.approximation_plots import plot_errors  # noqa: E402
from benchmarks.rmf_variance import (  # noqa: E402
    HEAD_DIM,
    MAX_DEGREE,
    theoretical_variance,
    variance_rows,
)
from macformer.attention import KERNELS, build_attention  # noqa: E402
from macformer.attention.kernels import (
    evaluate_series as series,  # Σ c_n tⁿ by Horner (also used for the variance series)
)
from macformer.attention.kernels import (  # noqa: E402
    kernel_value,
    maclaurin_coefficients,
    radius_of_convergence,
)
from macformer.attention.rmf.random_maclaurin import (  # noqa: E402
    RandomMaclaurinFeatures,
)
from macformer.attention.scaling import scale_queries_keys  # noqa: E402

COLUMNS = ["kernel", "ppsbn", "num_features", "seed", "input", "seq_len", "relative_error",
           "output_error", "series_error", "theory_error", "max_abs_qk", "outside_radius_frac",
           "status"]
INPUTS = ("gaussian", "model")
HEADS = 2


# --------------------------------------------------------------------------- inputs


def gaussian_qkv(seq_len: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(1, HEADS, seq_len, HEAD_DIM, generator=g) for _ in range(3))
    return q, k, v, f"i.i.d. N(0, 1) entries, {HEADS} heads of {HEAD_DIM}, {seq_len} tokens"


def load_inputs(kind: str, seq_len: int, checkpoint: Path | None):
    if kind == "gaussian":
        return gaussian_qkv(seq_len)
    from benchmarks.model_inputs import model_qkv

    return model_qkv(seq_len, checkpoint)


# --------------------------------------------------------------------------- experiments


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


def approximation_rows(kind, q, k, v, kernels, features, seeds) -> list[dict]:
    rows = []
    seq_len = q.shape[-2]
    for kernel in kernels:
        radius = radius_of_convergence(kernel)
        coefficients = maclaurin_coefficients(kernel, MAX_DEGREE)
        for ppsbn in (True, False):
            qs, ks = scale_queries_keys(q, k, ppsbn=ppsbn)
            t = qs.double() @ ks.double().transpose(-2, -1)  # [1, H, N, N]
            max_abs = float(t.abs().max())
            outside = float((t.abs() >= radius).double().mean()) if math.isfinite(radius) else 0.0
            try:
                exact = kernel_value(kernel, t)
            except ValueError:  # f undefined somewhere (q.k >= 1)
                exact = None
            truncated = series(coefficients, t)
            bias_sq = float((truncated - exact).pow(2).sum()) if exact is not None else math.nan
            try:
                kernelized = build_attention("kernelized", head_dim=HEAD_DIM, num_heads=HEADS,
                                             kernel=kernel, ppsbn=ppsbn)
                with torch.no_grad():
                    reference = kernelized(q, k, v)
                reference_status = ""
            except ValueError as err:
                reference, reference_status = None, f"kernelized refused: {err}"
            # Theory needs only D: compute the D-free part once.
            var_one = theoretical_variance(kernel, qs, ks, 2).sum()  # = sum_ij Var at D = 2
            for num_features in features:
                theory = math.nan
                if exact is not None:
                    var_sum = float(var_one) / (num_features - 1)
                    theory = math.sqrt(var_sum + bias_sq) / float(exact.norm())
                for seed in seeds:
                    feats = RandomMaclaurinFeatures(HEAD_DIM, num_features, kernel, MAX_DEGREE,
                                                    seed=seed)
                    with torch.no_grad():
                        estimate = (feats(qs) @ feats(ks).transpose(-2, -1)).double()  # float32 features
                    status = []
                    if not bool(torch.isfinite(estimate).all()):
                        status.append("overflow: non-finite kernel estimate")
                    output_error = math.nan
                    try:
                        rmfa = build_attention("rmfa", head_dim=HEAD_DIM, num_heads=HEADS,
                                               kernel=kernel, num_features=num_features,
                                               ppsbn=ppsbn, seed=seed)
                        with torch.no_grad():
                            out = rmfa(q, k, v)
                        if reference is not None:
                            output_error = _rel(out, reference)
                        if not bool(torch.isfinite(out).all()):
                            status.append("overflow: non-finite RMFA output")
                    except ValueError as err:
                        status.append(f"guard: {err}")
                    if reference_status:
                        status.append(reference_status)
                    rows.append(dict(
                        kernel=kernel, ppsbn=ppsbn, num_features=num_features, seed=seed,
                        input=kind, seq_len=seq_len,
                        relative_error=_rel(estimate, exact) if exact is not None else math.nan,
                        output_error=output_error, series_error=_rel(estimate, truncated),
                        theory_error=theory, max_abs_qk=max_abs, outside_radius_frac=outside,
                        status="; ".join(status) or "ok"))
    return rows


# --------------------------------------------------------------------------- report


def fitted_slope(s: pd.DataFrame, column: str) -> float:
    med = s.groupby("num_features")[column].median().dropna()
    med = med[med.map(lambda v: math.isfinite(v) and v > 0)]
    if len(med) < 2:
        return math.nan
    lx = torch.tensor(med.index.values, dtype=torch.float64).log()
    ly = torch.tensor(med.values, dtype=torch.float64).log()
    lx, ly = lx - lx.mean(), ly - ly.mean()
    return float((lx * ly).sum() / (lx * lx).sum())


def summary(df: pd.DataFrame, var_df: pd.DataFrame, descriptions: dict, args) -> str:
    d_show = 128 if 128 in set(df.num_features) else int(df.num_features.max())
    lines = ["# Random Maclaurin features: approximation error and ppSBN", "",
             f"Sequence length {args.seq_len}, {HEADS} heads of {HEAD_DIM}, max degree {MAX_DEGREE}, "
             f"seeds {list(args.seeds)}, D in {list(args.features)}. Errors are relative Frobenius "
             "norms; tables show the median over seeds.", ""]
    lines += [f"- `{k}`: {v}" for k, v in descriptions.items()] + [""]
    for column, what in (("relative_error", "kernel matrix φ(Q)φ(K)ᵀ vs f(QKᵀ)"),
                         ("output_error", "RMFA output vs exact kernelized attention")):
        at = df[df.num_features == d_show]
        table = at.pivot_table(index="kernel", columns=["input", "ppsbn"], values=column,
                               aggfunc="median", dropna=False, sort=False)
        table.columns = [f"{i}, ppSBN {'on' if p else 'off'}" for i, p in table.columns]
        shown = table.apply(lambda c: c.map(lambda x: "—" if pd.isna(x) else f"{x:.3g}"))
        lines += [f"## Error at D = {d_show}: {what}", "", shown.to_markdown(), ""]
    slopes = df[df.ppsbn].groupby(["input", "kernel"]).apply(
        lambda s: fitted_slope(s, "relative_error"), include_groups=False)
    lines += ["## Rate: slope of log(kernel error) against log(D), ppSBN on", "",
              "Theory: −1/2 while sampling variance dominates (error ∝ (D−1)^−½).", "",
              slopes.unstack(0).map(lambda x: f"{x:.2f}").to_markdown(), ""]
    off = df[~df.ppsbn].groupby(["input", "kernel"]).agg(
        max_abs_qk=("max_abs_qk", "first"), outside_radius_frac=("outside_radius_frac", "first"),
        series_error=("series_error", "median"), status=("status", "first"))
    off["series_error"] = off.series_error.map(lambda x: f"{x:.3g}")
    off["status"] = off.status.map(lambda s: s if len(s) < 160 else s[:157] + "...")
    lines += ["## Without ppSBN: how far the inputs are from the radius of convergence", "",
              "`max_abs_qk` = max |q·k| after × d^-1/4; `outside_radius_frac` = share of pairs with "
              "|q·k| ≥ radius (1 for inverse, log, sqrt); `series_error` = error against the "
              "truncated series (median over seeds and D); `status` of the first seed.", "",
              off.to_markdown(), ""]
    shown = var_df[["kernel", "pair", "empirical_var", "theory_var", "std_error", "z", "within"]]
    lines += ["## Variance of φ(x)·φ(y) against theory", "",
              f"{int(var_df.draws.iloc[0])} independent draws, D = {int(var_df.num_features.iloc[0])}; "
              f"|z| must stay below {var_df.z_crit.iloc[0]:.2f} (family-wise 1%, Bonferroni over "
              f"{len(var_df)} comparisons).", "",
              shown.to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/toy"))
    p.add_argument("--quick", action="store_true", help="reduced grid (under a minute), for tests")
    p.add_argument("--features", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512, 1024])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--seq-len", type=int, default=2048)
    p.add_argument("--kernels", nargs="+", default=list(KERNELS))
    p.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=INPUTS)
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="encoder checkpoint for the model inputs (default: initialisation)")
    p.add_argument("--draws", type=int, default=20000, help="draws for the variance check")
    p.add_argument("--variance-features", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    if args.quick:
        args.features, args.seeds, args.seq_len, args.draws = [16, 64, 256, 1024], [0, 1, 2], 1024, 2000
    if args.seq_len < 1024:
        print(f"note: --seq-len {args.seq_len} is below the 1024 the experiment is meant for")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows, descriptions = [], {}
    for kind in args.inputs:
        q, k, v, descriptions[kind] = load_inputs(kind, args.seq_len, args.checkpoint)
        rows += approximation_rows(kind, q, k, v, args.kernels, args.features, args.seeds)
    df = pd.DataFrame(rows, columns=COLUMNS)
    var_df = pd.DataFrame(variance_rows(args.kernels, args.draws, args.variance_features))
    df.to_csv(args.out / "approximation.csv", index=False)
    var_df.to_csv(args.out / "variance_check.csv", index=False)
    plot_errors(df, "relative_error", "Kernel-matrix error ‖φ(Q)φ(K)ᵀ − f(QKᵀ)‖/‖f(QKᵀ)‖",
                args.out / "approximation_kernel_error.png")
    plot_errors(df, "output_error", "Output error ‖RMFA − kernelized‖/‖kernelized‖",
                args.out / "approximation_output_error.png")
    text = summary(df, var_df, descriptions, args)
    (args.out / "approximation.md").write_text(text)
    print(text)
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")
    return df, var_df


if __name__ == "__main__":
    main()
