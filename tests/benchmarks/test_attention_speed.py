"""benchmarks/attention_speed.py in quick mode, the memory measurement, and the target logic."""

import pandas as pd
import pytest
import torch

from benchmarks.attention_speed import COLUMNS, MODES, targets, variants
from benchmarks.measure import peak_memory_mb, time_ms
from macformer.attention import KERNELS


@pytest.mark.slow
def test_csv_has_the_documented_columns_and_every_variant(speed_run):
    out, _ = speed_run
    df = pd.read_csv(out / "attention_speed.csv")
    required = {"attention", "kernel", "seq_len", "batch", "heads", "head_dim", "num_features",
                "mode", "ms", "peak_mb", "device"}
    assert required <= set(df.columns) and list(df.columns) == COLUMNS
    first = df[df.head_dim == df.head_dim.min()]
    assert set(first.variant) == {v.label for v in variants(128)}
    assert "rmfa-exp-causal" in set(df.variant)  # the causal form, beside the kernels
    assert set(df[df.form.isna()].attention) == {v.attention for v in variants(128)}
    assert (df.dtype == "float32").all()
    assert set(df[df.attention == "rmfa"].kernel) == set(KERNELS)
    assert set(df["mode"]) == set(MODES)
    assert (df.ms > 0).all() and (df.peak_mb >= 0).all()
    assert df.device.str.startswith("cpu").all() and (df.threads >= 1).all()
    assert set(df.head_dim) == {32, 64}


@pytest.mark.slow
def test_plots_and_report_are_written(speed_run):
    out, _ = speed_run
    for name in ("attention_speed_time.png", "attention_speed_memory.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    text = (out / "attention_speed.md").read_text()
    assert "Speed-up over softmax" in text and "Speed targets" in text


@pytest.mark.slow
def test_quadratic_memory_shows_in_the_measurement(speed_run):
    # The materialised softmax holds B·H·N² scores: its peak must exceed that matrix and
    # grow ~4x per doubling of N; rmfa's grows ~2x (linear).
    _, df = speed_run
    fb = df[(df["mode"] == "forward_backward") & (df.head_dim == 32)]
    mat = fb[fb.variant == "softmax_materialized"].set_index("seq_len").peak_mb
    rmfa = fb[fb.variant == "rmfa-exp"].set_index("seq_len").peak_mb
    assert mat[1024] >= 8 * 2 * 1024**2 * 4 / 2**20
    assert 3.0 < mat[1024] / mat[512] < 5.0
    assert 1.5 < rmfa[1024] / rmfa[512] < 2.5


def test_cpu_peak_memory_counts_what_a_step_allocates():
    def step():
        a = torch.empty(4 * 2**20, dtype=torch.uint8)  # 4 MiB
        b = torch.empty(2 * 2**20, dtype=torch.uint8)  # + 2 MiB while a is alive
        del a, b
        c = torch.empty(1 * 2**20, dtype=torch.uint8)
        del c

    peak = peak_memory_mb(step, torch.device("cpu"))
    assert 6.0 <= peak < 6.1
    assert time_ms(step, torch.device("cpu")) > 0


def _rows(values):
    rows = []
    for (variant, n), ms in values.items():
        rows.append(dict(variant=variant, seq_len=n, head_dim=32, mode="forward_backward", ms=ms,
                         peak_mb=ms))
    return pd.DataFrame(rows)


def test_targets_pass_fail_logic():
    df = _rows({("softmax", 4096): 400.0, ("rmfa-exp", 4096): 100.0, ("rfa", 4096): 80.0,
                ("softmax", 8192): 600.0, ("rmfa-exp", 8192): 100.0, ("rfa", 8192): 50.0,
                ("rmfa-exp", 16384): 420.0, ("rfa", 16384): 300.0})
    found = {t.name: t for t in targets(df)}
    assert found["speed-up of rmfa (exp, ppSBN) over softmax (SDPA) at 4096"].passed is True
    assert found["speed-up of rmfa (exp, ppSBN) over softmax (SDPA) at 8192"].passed is False
    assert found["time of rmfa / time of rfa (same D) at 4096"].passed is True
    assert found["time of rmfa / time of rfa (same D) at 8192"].passed is False
    assert found["rmfa time at 16384 / at 4096 (linear growth: 4)"].passed is True
    assert found["rmfa peak memory at 16384 / at 4096 (linear growth: 4)"].passed is True
    missing = targets(_rows({("rmfa-exp", 512): 1.0}))
    assert all(t.passed is None for t in missing)


def _gpu_rows(values, dtype="bfloat16"):
    df = _rows(values)
    df["device"], df["dtype"] = "cuda: NVIDIA H200", dtype
    return df


def test_gpu_targets_are_judged_on_a_gpu_only_and_bf16_targets_on_bf16_only():
    values = {("softmax", 4096): 30.0, ("rmfa-exp", 4096): 10.0, ("performer", 4096): 8.0,
              ("rmfa-exp-causal", 4096): 14.0, ("softmax", 8192): 100.0, ("rmfa-exp", 8192): 40.0,
              ("performer", 8192): 20.0}
    values[("performer", 4096)] = 10.5
    gpu = {t.name: t for t in targets(_gpu_rows(values))}
    assert gpu["time of rmfa / time of performer (same D) at 4096"].passed is True  # 0.95
    assert gpu["time of rmfa / time of performer (same D) at 8192"].passed is False  # 2.0
    assert gpu["speed-up of rmfa over softmax (SDPA), bf16 inputs, at 4096"].passed is True  # 3.0
    assert gpu["time of causal rmfa / non-causal rmfa at 4096"].passed is False  # 1.4 > 1.3
    assert gpu["rmfa forward + backward ms at 4096, bf16 inputs (moonshot)"].passed is False  # 10 ms
    assert gpu["peak memory of rmfa / softmax's at 4096"].passed is True  # peak_mb = ms here: 0.33
    fp32 = {t.name: t for t in targets(_gpu_rows(values, "float32"))}
    row16 = fp32["speed-up of rmfa over softmax (SDPA), bf16 inputs, at 4096"]
    assert row16.passed is None and row16.value is None  # fp32 inputs: not shown as a bf16 figure
    cpu = {t.name: t for t in targets(_rows(values))}
    row = cpu["time of rmfa / time of performer (same D) at 4096"]
    assert row.passed is None and row.value == 10.0 / 10.5 and row.row()[-1] == "n/a (a gpu target)"
    assert cpu["speed-up of rmfa (exp, ppSBN) over softmax (SDPA) at 4096"].passed is False  # 3 < 4


def test_variants_name_the_forms_and_the_path_a_device_does_not_pick():
    cpu = {v.label: v for v in variants(64)}
    gpu = {v.label: v for v in variants(64, device="cuda")}
    assert gpu["rmfa-exp-reference"].options["path"] == "reference" and "rmfa-exp-reference" not in cpu
    assert cpu["rmfa-exp-causal"].options["causal"] is True
