"""Registers and spills of the fused RMFA kernels on an H100/H200 (sm_90), without a GPU.

Triton compiles for a named target with no device present; ptxas (shipped with Triton)
then reports what each kernel uses. Registers decide how many programs share a
streaming multiprocessor, and spills go to local memory, so a change to the kernels
can be checked here before a GPU is at hand. The figures come from this machine's
Triton, which may differ from the GPU machine's; benchmarks/triton_tuning.py reads the
same figures from the kernels a GPU really ran.

    python benchmarks/triton_compile_check.py                 # the default tiling
    python benchmarks/triton_compile_check.py --config block=64,num_warps=8
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# Pointer types per kernel argument, in order (q, k, v in bf16 as under 16-bit mixed
# precision; the states, masks and feature tables in fp32, the tiles' degrees int32).
TABLES = ("*fp32", "*fp32", "*fp32", "*i32")  # signs, bias, scale, tile_degrees
POINTERS = {
    "_state_kernel": ("*bf16", "*bf16", "*fp32", "*fp32", "*fp32", *TABLES),
    "_output_kernel": ("*bf16",) * 3 + ("*fp32",) * 5 + TABLES,
    "_backward_q_kernel": ("*bf16",) * 3 + ("*fp32",) * 5 + ("*bf16",) + TABLES,
    "_backward_kv_kernel": ("*bf16",) * 3 + ("*fp32",) * 5 + ("*bf16",) * 2 + TABLES,
}


def compile_kernel(fn, pointers, constants: dict, num_warps: int, capability: int) -> dict:
    """Compile `fn` for sm_<capability>; its registers and spill bytes as ptxas reports them."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    names, pointer_types = fn.arg_names, iter(pointers)
    signature = {n: "constexpr" if n in constants else next(pointer_types) if n.endswith("_ptr")
                 else "fp32" if n == "FLOOR" else "i32" for n in names}
    source = ASTSource(fn=fn, signature=signature,
                       constexprs={(names.index(n),): v for n, v in constants.items()})
    compiled = triton.compile(source, target=GPUTarget("cuda", capability, 32), options={"num_warps": num_warps})
    report = _ptxas_report(compiled.asm["ptx"], capability)
    registers = re.search(r"Used (\d+) registers", report)
    spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", report)
    if registers is None or spills is None:
        raise RuntimeError(f"ptxas gave no register count for {fn.__name__}: {report.strip()[-300:]}")
    return {"registers": int(registers.group(1)), "spill stores (B)": int(spills.group(1)),
            "spill loads (B)": int(spills.group(2))}


def _ptxas_report(ptx: str, capability: int) -> str:
    """`ptxas -v` on the PTX: the first of Triton's ptxas builds that accepts its version."""
    import triton

    bin_dir = Path(triton.__file__).parent / "backends" / "nvidia" / "bin"
    candidates = [os.environ.get("TRITON_PTXAS_PATH"), bin_dir / "ptxas-blackwell", bin_dir / "ptxas"]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "kernel.ptx"
        source.write_text(ptx)
        errors = []
        for ptxas in filter(None, candidates):
            if not Path(ptxas).exists():
                continue
            done = subprocess.run([str(ptxas), "-v", f"--gpu-name=sm_{capability}a", str(source),
                                   "-o", str(Path(tmp) / "kernel.cubin")], capture_output=True, text=True)
            if done.returncode == 0:
                return done.stdout + done.stderr
            errors.append(f"{Path(ptxas).name}: {done.stderr.strip()[-200:]}")
    raise RuntimeError("no ptxas could assemble the kernel: " + "; ".join(errors or ["none found"]))


def check(config_spec: str = "", head_dim: int = 32, capability: int = 90) -> pd.DataFrame:
    if os.environ.get("TRITON_INTERPRET") == "1":  # the kernels would be the interpreter's, not compiled
        raise RuntimeError("compiling for a GPU needs TRITON_INTERPRET unset")
    from macformer.attention.rmf import triton_backward, triton_kernels
    from macformer.attention.rmf.triton_rmfa import _EPS, KernelConfig

    config = KernelConfig.parse(config_spec)
    common = dict(D_HEAD=head_dim, BLK=config.block, BD=config.feature_block, SCALE=head_dim ** -0.25,
                  PPSBN=True, EPS=_EPS, PROJ_BF16=config.proj_bf16, ATT=config.att)
    kernels = [("_state_kernel", triton_kernels._state_kernel, None, config.num_warps),
               ("_output_kernel", triton_kernels._output_kernel, True, config.num_warps),
               ("_backward_q_kernel", triton_backward._backward_q_kernel, True, config.backward_warps),
               ("_backward_kv_kernel", triton_backward._backward_kv_kernel, True, config.backward_warps)]
    rows = []
    for name, fn, has_causal, warps in kernels:
        for causal in (False, True) if has_causal else (None,):
            constants = dict(common, **({"MASK_V": True} if causal is None else {"CAUSAL": causal}))
            form = "state (keys)" if causal is None else "causal" if causal else "non-causal"
            rows.append({"kernel": name, "form": form, "warps": warps,
                         **compile_kernel(fn, POINTERS[name], constants, warps, capability)})
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="", help='KernelConfig fields to change, e.g. "block=64,num_warps=8"')
    p.add_argument("--head-dim", type=int, default=32)
    p.add_argument("--capability", type=int, default=90, help="compute capability (90: H100/H200)")
    args = p.parse_args(argv)
    import triton

    from macformer.attention.rmf.triton_rmfa import KernelConfig

    table = check(args.config, args.head_dim, args.capability)
    print(f"# Fused RMFA kernels on sm_{args.capability} (triton {triton.__version__}), head dim "
          f"{args.head_dim}, ppSBN, {KernelConfig.parse(args.config)}\n")
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
