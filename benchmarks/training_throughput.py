"""Training throughput of the ListOps model with softmax, RFA, Performer and RMFA, side by side.

The authors' ListOps model (2 layers, 2 heads of 32, dim 64, feed-forward 128) at
length 2048, batch 32, trained for a fixed number of steps per attention through the
same Lightning module, optimiser and ThroughputMonitor as `macformer.train`, so
tokens/s here is measured exactly as in every run's summary.json. The batches are
random ListOps token ids with every position real (the full 2048-token cost; speed
does not depend on the content).

    .venv/bin/python benchmarks/training_throughput.py            # 12 steps, first 4 skipped
    .venv/bin/python benchmarks/training_throughput.py --steps 20 --length 1024

Rows: softmax (PyTorch's SDPA), rfa, performer (the cheapest random-feature attention
here with the same D: a floor for what any D = 128 linear attention reaches), rmfa
(non-causal) and rmfa-causal (Macformer's main row), each on the path its device
picks (Triton on a GPU), and rmfa-causal-reference (the eager path) beside them. 16-bit mixed precision on a GPU, float32 on a CPU.
"""

from __future__ import annotations

import argparse
import json
import time

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from macformer.allocator import keep_freed_memory
from macformer.data.tasks import task_spec
from macformer.models import Encoder, build_classifier
from macformer.training.callbacks.throughput import ThroughputMonitor
from macformer.training.lit_module import LRALitModule

# label -> (attention, options)
ATTENTIONS = {
    "softmax": ("softmax", {}),
    "rfa": ("rfa", {"num_features": 128}),
    "performer": ("performer", {"num_features": 128}),
    "rmfa": ("rmfa", {"kernel": "exp", "num_features": 128}),
    "rmfa-causal": ("rmfa", {"kernel": "exp", "num_features": 128, "causal": True}),
    # The reference path, for comparison with a GPU's Triton default.
    "rmfa-causal-reference": ("rmfa", {"kernel": "exp", "num_features": 128, "causal": True,
                                       "path": "reference"}),
}


class RandomTokens(Dataset):
    def __init__(self, size: int, length: int, vocab: int, classes: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, vocab, (size, length), generator=g)
        self.labels = torch.randint(0, classes, (size,), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones_like(self.ids[i], dtype=torch.bool),
                "label": self.labels[i]}


def measure(label: str, length: int, batch: int, steps: int, skip: int) -> dict:
    spec = task_spec("listops")
    pl.seed_everything(0, verbose=False)
    attention, options = ATTENTIONS[label]
    encoder = Encoder(spec.vocab_size, length, attention=attention, attention_options=options)
    model = build_classifier(encoder, spec.num_classes, dual=False)
    module = LRALitModule(model, spec.num_classes, lr=1e-4, warmup_steps=max(1, steps // 10), max_steps=steps)
    data = DataLoader(RandomTokens(batch * steps, length, spec.vocab_size, spec.num_classes), batch_size=batch)
    monitor = ThroughputMonitor(skip_steps=skip)
    trainer = pl.Trainer(accelerator="auto", devices=1, max_steps=steps, logger=False, callbacks=[monitor],
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         gradient_clip_val=1.0, limit_val_batches=0,
                         precision="16-mixed" if torch.cuda.is_available() else "32-true")
    start = time.perf_counter()
    trainer.fit(module, train_dataloaders=data)
    return {"attention": label, "length": length, **monitor.results(),
            "wall_seconds": time.perf_counter() - start}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--skip", type=int, default=4, help="first steps left out of the rates")
    parser.add_argument("--attentions", default=",".join(ATTENTIONS),
                        help=f"comma-separated, from {', '.join(ATTENTIONS)}")
    parser.add_argument("--threads", type=int, default=None, help="CPU intra-op threads (default: torch's)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every attention this many times, interleaved; report the median "
                             "(a shared machine's slow drifts then hit all rows alike)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.attentions.split(",")) - set(ATTENTIONS))
    if unknown:
        parser.error(f"--attentions: unknown {', '.join(unknown)}; allowed: {', '.join(ATTENTIONS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    keep_freed_memory()  # as every training run does (macformer/allocator.py)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu, {torch.get_num_threads()} threads"
    print(f"ListOps model, length {args.length}, batch {args.batch}, {args.steps} steps "
          f"(first {args.skip} skipped), {device}")
    labels = args.attentions.split(",")
    runs = {a: [] for a in labels}
    for _ in range(args.rounds):
        for a in labels:
            runs[a].append(measure(a, args.length, args.batch, args.steps, args.skip))
    rows = [sorted(runs[a], key=lambda r: r["train_tokens_per_second"])[(args.rounds - 1) // 2] for a in labels]
    base = next((r for r in rows if r["attention"] == "softmax"), None)
    print(f"{'attention':<12}{'tokens/s':>12}{'steps/s':>10}{'peak MiB':>10}{'× softmax':>11}")
    for r in rows:
        ratio = r["train_tokens_per_second"] / base["train_tokens_per_second"] if base else float("nan")
        r["speedup_vs_softmax"] = ratio
        print(f"{r['attention']:<12}{r['train_tokens_per_second']:>12.0f}{r['train_steps_per_second']:>10.3f}"
              f"{r['peak_memory_mb']:>10.0f}{ratio:>11.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": device, "args": vars(args), "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
