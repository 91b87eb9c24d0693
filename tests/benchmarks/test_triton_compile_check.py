"""benchmarks/triton_compile_check.py: every fused RMFA kernel compiles for an H100/H200
(sm_90) on this CPU, and ptxas reports its registers and spills. An edit that the
interpreter accepts but the GPU compiler refuses fails here, before a GPU is at hand.
It runs in a fresh process: the suite's Triton tests set TRITON_INTERPRET=1, under which
the kernels are the interpreter's."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "triton_compile_check.py"
KERNELS = [("_state_kernel", "state (keys)"), ("_output_kernel", "non-causal"), ("_output_kernel", "causal"),
           ("_backward_q_kernel", "non-causal"), ("_backward_q_kernel", "causal"),
           ("_backward_kv_kernel", "non-causal"), ("_backward_kv_kernel", "causal")]


def compile_table(*args: str) -> list[list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600,
                          env={**env, "TRITON_DEFAULT_FP_FUSION": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    return [[cell.strip() for cell in line.strip("|").split("|")]
            for line in done.stdout.splitlines() if line.startswith("| _")]


def test_every_kernel_compiles_for_sm90_with_its_registers_and_spills():
    rows = compile_table()
    assert [(r[0], r[1]) for r in rows] == KERNELS
    assert all(16 <= int(r[3]) <= 255 for r in rows)  # registers: sm_90 allows 255 a thread
    assert all(int(r[4]) >= 0 and int(r[5]) >= 0 for r in rows)  # spill stores and loads, bytes
    assert [int(r[2]) for r in rows] == [4] * 7  # the default's warps


def test_another_tiling_compiles_too():
    rows = compile_table("--config", "block=16,feature_block=16,backward_warps=8")
    assert [(r[0], r[1]) for r in rows] == KERNELS
    assert [int(r[2]) for r in rows] == [4, 4, 4, 8, 8, 8, 8]
