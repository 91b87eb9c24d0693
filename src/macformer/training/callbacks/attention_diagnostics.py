"""Per-layer attention diagnostics, logged at every validation (CSV and W&B alike).

On a probe (the first `probe_size` examples of the first validation batch, kept for
the whole run) each block's attention inputs are captured with a forward hook, and the
weights the attention applies are rebuilt explicitly (`attention_weights`) to measure
how peaked they are (macformer.attention.peakedness). Kernel attentions also log the
ratio of their exact kernel weights, which ppSBN bounds. The N×N weights are built only
up to `max_length` tokens (Path-X's 16384² would not fit); longer probes log nothing.
"""

from __future__ import annotations

import logging

import pytorch_lightning as pl
import torch

from macformer.attention.kernels import kernel_value
from macformer.attention.linear_attention import allowed_keys
from macformer.attention.peakedness import output_spread, weight_stats
from macformer.attention.scaling import scale_queries_keys

log = logging.getLogger(__name__)


class AttentionDiagnostics(pl.Callback):
    def __init__(self, probe_size: int = 2, max_length: int = 4096):
        self.probe_size, self.max_length = probe_size, max_length
        self.probe: dict[str, torch.Tensor] | None = None

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        if self.probe is None and batch_idx == 0:
            self.probe = {k: v[: self.probe_size].clone() for k, v in batch.items()}

    def on_validation_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking or self.probe is None:
            return
        if self.probe["input_ids"].shape[-1] > self.max_length:
            return
        stats = probe_attention(pl_module.model, self.probe)
        for layer, values in enumerate(stats):
            for name, value in values.items():
                pl_module.log(f"diag/layer{layer}/{name}", value, rank_zero_only=True)


@torch.no_grad()
def probe_attention(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> list[dict]:
    """One dict of statistics per encoder block, for `batch` through `model` (eval mode)."""
    blocks = list(model.encoder.blocks)
    captured: list[tuple] = [None] * len(blocks)

    def hook(index):
        def capture(module, args, kwargs, out):
            q, k, v = args[:3]
            mask = kwargs.get("key_padding_mask", args[3] if len(args) > 3 else None)
            captured[index] = (q, k, v, mask, out)
        return capture

    handles = [b.attention.register_forward_hook(hook(i), with_kwargs=True) for i, b in enumerate(blocks)]
    was_training = model.training
    try:
        model.eval()
        model(batch)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return [_block_stats(block.attention, *captured[i]) for i, block in enumerate(blocks)]


def _block_stats(attention, q, k, v, mask, out) -> dict:
    causal = bool(getattr(attention, "causal", False))
    allowed = allowed_keys(mask, q.shape[-2], causal, q.device)
    weights = attention.attention_weights(q.float(), k.float(), mask)
    stats = weight_stats(weights, allowed, mask)
    if getattr(attention, "post_scale", None) is not None:
        out = weights.to(v.dtype) @ v  # the output before ppSBN's γ, comparable across variants
    stats["output_spread"] = output_spread(out, v, mask)
    kernel = getattr(attention, "kernel", None)
    if kernel is not None and getattr(attention, "ppsbn", False):  # |q·k| ≤ d^-1/2: inside the radius
        qs, ks = scale_queries_keys(q.float(), k.float(), ppsbn=True)
        exact = kernel_value(kernel, qs @ ks.transpose(-2, -1)) * allowed
        stats["kernel_max_min_ratio"] = weight_stats(exact, allowed, mask)["max_min_ratio"]
    return stats


def probe_validation_examples(model: torch.nn.Module, data, examples: int = 2,
                              max_length: int = 4096) -> list[dict] | None:
    """probe_attention on the first validation examples of the data module `data`, as plain
    floats for summary.json; None past `max_length` tokens (the N×N weights would not fit)."""
    batch = next(iter(data.val_dataloader()))
    if batch["input_ids"].shape[-1] > max_length:
        return None
    device = next(model.parameters()).device
    probe = {k: v[:examples].to(device) for k, v in batch.items()}
    return [{k: float(v) for k, v in layer.items()} for layer in probe_attention(model, probe)]
