"""The speed targets of benchmarks/attention_speed.py, judged from one run's rows.

Every target is a ratio of two rows measured side by side in the same run (forward +
backward, head dim 32). A target marked `cpu` or `gpu` is judged only when the run was
on that device (elsewhere its value is shown, marked n/a); a bf16 target only when the
inputs were bf16.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

REFERENCE = "softmax"  # speed-ups are relative to SDPA softmax
TARGET_VARIANT = "rmfa-exp"



@dataclass
class Target:
    name: str
    value: float | None
    bound: str
    passed: bool | None
    where: str = "any"  # "cpu", "gpu": judged only on that device, else shown as n/a

    def row(self):
        if self.passed is None:
            verdict = "n/a (not measured)" if self.value is None else f"n/a (a {self.where} target)"
        else:
            verdict = "PASS" if self.passed else "FAIL"
        value = "—" if self.value is None else f"{self.value:.2f}"
        return [self.name, self.where, value, self.bound, verdict]


TARGET_COLUMNS = ["target", "where", "measured", "bound", "result"]


def _lookup(df, variant, seq_len, head_dim, mode="forward_backward", column="ms"):
    sel = df[(df.variant == variant) & (df.seq_len == seq_len) & (df.head_dim == head_dim)
             & (df["mode"] == mode)]
    return None if sel.empty else float(sel[column].iloc[0])


def targets(df: pd.DataFrame, head_dim: int = 32) -> list[Target]:
    """The speed targets, all from this run's forward+backward rows at head_dim 32.

    A target marked gpu (cpu) is judged only when the run was on that device; a
    bf16 target only when the inputs were bf16.
    """
    on_gpu = "device" in df and not df.empty and str(df.device.iloc[0]).startswith("cuda")
    dtype = str(df.dtype.iloc[0]) if "dtype" in df and not df.empty else "float32"
    out = []

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    def add(name, value, bound, ok, where="any"):
        judged = value is not None and (where == "any" or (where == "gpu") == on_gpu)
        out.append(Target(name, value, bound, bool(ok(value)) if judged else None, where))

    rmfa, causal = TARGET_VARIANT, f"{TARGET_VARIANT}-causal"
    lengths = sorted(df[df.head_dim == head_dim].seq_len.unique())
    for n, need in ((4096, 4.0), (8192, 7.0)):
        add(f"speed-up of rmfa (exp, ppSBN) over softmax (SDPA) at {n}",
            ratio(_lookup(df, REFERENCE, n, head_dim), _lookup(df, rmfa, n, head_dim)),
            f">= {need:g}", lambda v, need=need: v >= need, "cpu")
    for n in [n for n in lengths if n >= 4096] or [4096]:
        add(f"time of rmfa / time of rfa (same D) at {n}",
            ratio(_lookup(df, rmfa, n, head_dim), _lookup(df, "rfa", n, head_dim)),
            "<= 1.5", lambda v: v <= 1.5)
    for column, what in (("ms", "time"), ("peak_mb", "peak memory")):
        add(f"rmfa {what} at 16384 / at 4096 (linear growth: 4)",
            ratio(_lookup(df, rmfa, 16384, head_dim, column=column), _lookup(df, rmfa, 4096, head_dim, column=column)),
            "in [3.4, 4.6]", lambda v: 3.4 <= v <= 4.6)
    for n in [n for n in lengths if 1024 <= n <= 65536] or [1024]:
        add(f"time of rmfa / time of performer (same D) at {n}",
            ratio(_lookup(df, rmfa, n, head_dim), _lookup(df, "performer", n, head_dim)),
            "<= 1.0", lambda v: v <= 1.0, "gpu")
    for n in [n for n in lengths if 1024 <= n <= 65536] or [4096]:
        add(f"time of causal rmfa / non-causal rmfa at {n}",
            ratio(_lookup(df, causal, n, head_dim), _lookup(df, rmfa, n, head_dim)),
            "<= 1.3", lambda v: v <= 1.3, "gpu")
    bf16 = dtype == "bfloat16"  # measured with other inputs, the value would mislead
    for n, need in ((4096, 2.0), (16384, 8.0)):
        add(f"speed-up of rmfa over softmax (SDPA), bf16 inputs, at {n}",
            ratio(_lookup(df, REFERENCE, n, head_dim), _lookup(df, rmfa, n, head_dim)) if bf16 else None,
            f">= {need:g}", lambda v, need=need: v >= need, "gpu")
    add("rmfa forward + backward ms at 4096, bf16 inputs (moonshot)",
        _lookup(df, rmfa, 4096, head_dim) if bf16 else None, "<= 1", lambda v: v <= 1.0, "gpu")
    add("peak memory of rmfa / softmax's at 4096",
        ratio(_lookup(df, rmfa, 4096, head_dim, column="peak_mb"),
              _lookup(df, REFERENCE, 4096, head_dim, column="peak_mb")),
        "<= 2", lambda v: v <= 2, "gpu")
    return out
