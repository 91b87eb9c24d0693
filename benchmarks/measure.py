"""How the benchmarks time a step and measure its peak memory, the same way for every variant.

Time
    CPU: `time.perf_counter` around the step. CUDA: a pair of CUDA events around the
    step, then `torch.cuda.synchronize` (host timers would see only the launch).

Peak memory: the most memory the step itself holds at any moment beyond what was
allocated before it started (inputs, parameters), in MiB.
    CUDA: `torch.cuda.reset_peak_memory_stats`, then `max_memory_allocated` minus the
    `memory_allocated` before the step.
    CPU: torch's CPU allocator reports every allocation and free to the profiler when
    `profile_memory=True`; we replay those events in time order, keep the running sum
    and take its maximum. That counts exactly the tensor memory the step asks for
    (forward activations, saved tensors, gradients, temporaries), not the allocator's
    or the OS's slack, so it is comparable across variants. Process RSS deltas would
    be far coarser (pages are reused, freed memory is not returned). The profiled run
    is slower, so it is never one of the timed repeats; it doubles as the warm-up.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

import torch
from torch.profiler import ProfilerActivity, profile

MIB = 2**20


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_ms(step: Callable[[], None], device: torch.device) -> float:
    """Wall time of one call of `step`, in milliseconds."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        synchronize(device)
        start.record()
        step()
        end.record()
        synchronize(device)
        return float(start.elapsed_time(end))
    t0 = time.perf_counter()
    step()
    return (time.perf_counter() - t0) * 1e3


def peak_memory_mb(step: Callable[[], None], device: torch.device) -> float:
    """Peak memory the call of `step` allocates beyond what was allocated before it (MiB)."""
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        step()
        synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / MIB
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    cpu = torch.autograd.DeviceType.CPU
    events = [e for e in prof.profiler.kineto_results.events()
              if e.name() == "[memory]" and e.device_type() == cpu]
    events.sort(key=lambda e: e.start_ns())
    current = peak = 0
    for event in events:  # nbytes > 0: allocation, < 0: free
        current += event.nbytes()
        peak = max(peak, current)
    return peak / MIB


def kernel_count(step: Callable[[], None], device: torch.device) -> int:
    """Kernels one call of `step` launches: CUDA kernels (and copies) on a GPU; on a CPU,
    the compute ops the profiler records at the leaves (a proxy for launches)."""
    synchronize(device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        step()
        synchronize(device)
    if device.type == "cuda":
        return sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)
    events = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CPU]
    parents = {id(e.cpu_parent) for e in events if e.cpu_parent is not None}
    return sum(1 for e in events if id(e) not in parents and e.name.startswith("aten::")
               and e.name not in _VIEWS)


_VIEWS = {"aten::view", "aten::as_strided", "aten::reshape", "aten::transpose", "aten::t", "aten::expand",
          "aten::unsqueeze", "aten::squeeze", "aten::slice", "aten::select", "aten::permute", "aten::split",
          "aten::unflatten", "aten::empty", "aten::empty_like", "aten::empty_strided", "aten::detach",
          "aten::alias", "aten::lift_fresh", "aten::_unsafe_view", "aten::resolve_conj", "aten::resolve_neg"}


def device_label(device: torch.device) -> str:
    """A human-readable name of the machine the numbers come from."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"cpu: {cpu}, {torch.get_num_threads()} thread(s)"
