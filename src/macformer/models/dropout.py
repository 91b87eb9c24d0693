"""Dropout whose mask, on a CPU, costs a third of `nn.Dropout`'s.

On a CPU, `nn.Dropout` draws one Bernoulli sample per element from the Mersenne
Twister; at the LRA sizes that was about a fifth of a training step. Here one 64-bit
draw gives four 16-bit uniform integers, an element is kept when its integer is at
least the threshold, and kept values are scaled by 1/(1 − p'), where p' = the
threshold's probability, within 2^-16 of p. The output is unbiased, as with
nn.Dropout, and the draws come from torch's default generator, so seeding makes runs
repeatable. The backward saves the boolean mask only.

On other devices (and for p = 0 or in eval mode) it is `nn.functional.dropout`:
the GPU's generator is already fast.
"""

from __future__ import annotations

import torch
from torch import nn

_LEVELS = 2**16  # 16-bit integers: p is matched to within 2^-16


def quantised_rate(p: float) -> float:
    """The drop probability actually used on a CPU: p rounded to a multiple of 2^-16."""
    return round(p * _LEVELS) / _LEVELS


class Dropout(nn.Dropout):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.device.type != "cpu" or self.inplace:
            return super().forward(x)
        if self.p == 1:
            return x * 0.0
        return _ByteMaskDropout.apply(x, self.p)


def keep_mask(shape: torch.Size, p: float, device: torch.device) -> torch.Tensor:
    """A bool tensor of `shape`, True with probability 1 − quantised_rate(p)."""
    n = shape.numel()
    draws = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, device=device)
    uniform = draws.view(torch.int16)[:n].view(shape)  # uniform on [-2^15, 2^15)
    threshold = -(2**15) + round(p * _LEVELS)
    return uniform >= threshold


class _ByteMaskDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        keep = keep_mask(x.shape, p, x.device)
        scale = 1.0 / (1.0 - quantised_rate(p))
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return x.mul(keep).mul_(scale)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return grad.mul(keep).mul_(ctx.scale), None
