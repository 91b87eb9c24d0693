"""Training speed and peak memory, measured the same way for every attention.

- Time: each training batch is timed from `on_train_batch_start` to `on_train_batch_end`
  (forward, backward, clipping, optimiser step), so validation and data loading are
  excluded. On CPU with `time.perf_counter`; on CUDA with a pair of CUDA events per
  batch, read in one go before each validation, checkpoint and at the end: waiting for
  the GPU at every batch would empty its launch queue and slow the very training it
  measures (most for attentions made of many small kernels). The first `skip_steps` batches (allocator
  warm-up, cuDNN autotuning) are left out of the rates.
- Tokens: positions processed = batch × padded length (× 2 documents for retrieval),
  summed over all processes.
- Memory: on GPU, `torch.cuda.max_memory_allocated` over training; on CPU the peak
  resident set size of the process during training, sampled every 10 ms by a thread
  and at every batch end.

The results go into `trainer.callback_metrics` under `perf/…` (which also carries them
back from `ddp_spawn` workers) and into the callback state, so that a resumed run adds
its time to the time already spent.
"""

from __future__ import annotations

import threading
import time

import psutil
import pytorch_lightning as pl
import torch


def tokens_in(batch: dict[str, torch.Tensor]) -> int:
    tokens = batch["input_ids"].numel()
    if "input_ids_pair" in batch:
        tokens += batch["input_ids_pair"].numel()
    return int(tokens)


class _RssSampler:
    """Peak resident set size of this process while running, sampled by a thread."""

    def __init__(self, interval: float = 0.01):
        self.process, self.interval = psutil.Process(), interval
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        self.peak = max(self.peak, self.process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> _RssSampler:
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.sample()
        return self.peak


class ThroughputMonitor(pl.Callback):
    def __init__(self, skip_steps: int = 5):
        self.skip_steps = skip_steps
        self.measured_seconds = 0.0  # timed batches after the skipped ones
        self.measured_steps = 0
        self.measured_tokens = 0
        self.total_seconds = 0.0  # every training batch, including skipped ones
        self.steps_seen = 0  # this process's batches (restarts at 0 on resume)
        self.peak_bytes = 0
        self._t0 = 0.0
        self._start_event = None
        self._events: list[tuple[object, object, int]] = []  # CUDA: (start, end, tokens) not yet read
        self._sampler: _RssSampler | None = None

    def on_train_start(self, trainer, pl_module):
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(trainer.strategy.root_device)
        else:
            self._sampler = _RssSampler().start()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.strategy.root_device.type == "cuda":
            self._start_event = torch.cuda.Event(enable_timing=True)
            self._start_event.record()
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        tokens = tokens_in(batch) * trainer.world_size
        if self._start_event is not None:
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            self._events.append((self._start_event, end, tokens))
            self._start_event = None
        else:
            self._count(time.perf_counter() - self._t0, tokens)
        if self._sampler is not None:
            self._sampler.sample()

    def _count(self, seconds: float, tokens: int) -> None:
        self.total_seconds += seconds
        self.steps_seen += 1
        if self.steps_seen > self.skip_steps:
            self.measured_seconds += seconds
            self.measured_steps += 1
            self.measured_tokens += tokens

    def read_events(self) -> None:
        """Add the CUDA-timed batches (waits for the last one to finish)."""
        events, self._events = self._events, []
        if events:
            events[-1][1].synchronize()
        for start, end, tokens in events:
            self._count(start.elapsed_time(end) / 1e3, tokens)

    def on_validation_start(self, trainer, pl_module):
        self.read_events()

    def on_train_end(self, trainer, pl_module):
        self.read_events()
        if trainer.strategy.root_device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(trainer.strategy.root_device)
        else:
            peak = self._sampler.stop() if self._sampler is not None else 0
            self._sampler = None
        self.peak_bytes = max(self.peak_bytes, int(peak))
        self.publish(trainer)

    def on_exception(self, trainer, pl_module, exception):
        try:
            self.read_events()
        except RuntimeError:  # a CUDA error raises again here: keep the run's own exception
            self._events = []
        if self._sampler is not None:
            self.peak_bytes = max(self.peak_bytes, self._sampler.stop())
            self._sampler = None
        self.publish(trainer)

    def results(self) -> dict[str, float | None]:
        rate = self.measured_seconds > 0 and self.measured_steps > 0
        return {
            "train_seconds": self.total_seconds,
            "train_tokens_per_second": self.measured_tokens / self.measured_seconds if rate else None,
            "train_steps_per_second": self.measured_steps / self.measured_seconds if rate else None,
            "peak_memory_mb": self.peak_bytes / 2**20 if self.peak_bytes else None,
            "throughput_steps": self.measured_steps,
        }

    def publish(self, trainer: pl.Trainer) -> None:
        # The step count too: under ddp_spawn the main process's trainer never sees it.
        trainer.callback_metrics["perf/global_step"] = torch.tensor(float(trainer.global_step))
        for key, value in self.results().items():
            if value is not None:
                trainer.callback_metrics[f"perf/{key}"] = torch.tensor(float(value), dtype=torch.float64)

    # A resumed run continues the totals of the interrupted one.
    def state_dict(self):
        self.read_events()
        return {"measured_seconds": self.measured_seconds, "measured_steps": self.measured_steps,
                "measured_tokens": self.measured_tokens, "total_seconds": self.total_seconds,
                "peak_bytes": self.peak_bytes}

    def load_state_dict(self, state_dict):
        for key, value in state_dict.items():
            setattr(self, key, value)
