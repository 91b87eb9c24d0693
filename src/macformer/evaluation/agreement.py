"""When a re-tested accuracy agrees with the recorded one.

On the run's own CPU environment (every recorded software and hardware key the same, the
recorded thread count used, 32-bit deterministic training's settings) the re-test computes
the same floating-point operations in the same order, so the accuracy must be equal to its
last digit.

Anywhere else (another CPU, other library versions, a GPU, 16-bit mixed precision) the
logits differ by rounding, and a test example can change its prediction only when its
logit margin (top-1 minus top-2) is within that rounding. So the tolerance is derived from
the run itself: k examples whose margin, as re-tested here, is at most
`ε · (1 + |top-1 logit|)`, allow the accuracy to move by at most k / n. ε bounds how far
two correct evaluations' logits drift apart, relative to their size:
- 1e-4 when both are 32-bit: about 800 times fp32's unit roundoff (2^-24 ≈ 6e-8), ample
  for the reordered sums of a few layers (other BLAS blockings, thread counts, SIMD widths);
- 2e-2 when either is 16-bit mixed: about 5 times bfloat16's unit roundoff (2^-8 ≈ 3.9e-3),
  the coarser of the two 16-bit formats, carried through the network.
A difference larger than k / n is a real one: other weights, other data or other code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Keys of the recorded environment that do not change the arithmetic of a re-test on the
# recorded thread count (the machine's core count; the thread count, which is set to the
# recorded one before testing).
NOT_ARITHMETIC = ("cpu_count", "threads")
EPSILON_32 = 1e-4
EPSILON_16 = 2e-2


def environment_differences(recorded: dict | None, here: dict, recorded_device: str) -> list[str]:
    """What makes this re-test's environment not the run's own CPU one (empty: it is)."""
    if not str(recorded_device).startswith("cpu"):
        return [f"the run used {recorded_device}"]
    if not recorded:
        return ["the run recorded no environment"]
    keys = sorted((set(recorded) | set(here)) - set(NOT_ARITHMETIC))
    return [f"{k} {recorded.get(k)} → {here.get(k)}" for k in keys if recorded.get(k) != here.get(k)]


def epsilon(precisions: tuple[str, ...]) -> float:
    """ε for the precisions of the two evaluations (recorded, here)."""
    return EPSILON_16 if any(not p.startswith("32") and not p.startswith("64") for p in precisions) else EPSILON_32


@dataclass(frozen=True)
class Tolerance:
    near_ties: int  # test examples whose prediction rounding could change
    examples: int
    epsilon: float

    @property
    def accuracy(self) -> float:
        return self.near_ties / self.examples if self.examples else 0.0

    def describe(self) -> str:
        return (f"{self.near_ties} of {self.examples} test examples have a logit margin within "
                f"ε = {self.epsilon:g} of their top logit's size, so the accuracy may move by "
                f"{100 * self.accuracy:.2f} points")


def near_ties(logits: torch.Tensor, eps: float) -> int:
    """Rows of `logits` [n, classes] whose top-1 and top-2 are within eps · (1 + |top-1|)."""
    top = logits.float().topk(2, dim=-1).values  # [n, 2]
    margin = top[:, 0] - top[:, 1]
    return int((margin <= eps * (1 + top[:, 0].abs())).sum())
