"""mask_tokens draws about `rate` of the real tokens, in spans, never padding; next_token_targets
shifts by one within the real tokens."""

from __future__ import annotations

import math

import pytest
import torch

from macformer.training.pretrain.objectives import IGNORE, mask_tokens, next_token_targets

MASK_ID = 99


def padded_batch(batch: int, length: int, min_real: int, seed: int = 0):
    """ids in 1..50 with a random number of real tokens per row (≥ min_real), PAD (0) after."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 51, (batch, length), generator=g)
    real_lengths = torch.randint(min_real, length + 1, (batch, 1), generator=g)
    mask = torch.arange(length)[None] < real_lengths
    return ids.masked_fill(~mask, 0), mask


def runs(row: torch.Tensor) -> list[tuple[int, int]]:
    """(start, length) of each maximal run of True in a 1-d bool tensor."""
    out, start = [], None
    for i, value in enumerate(row.tolist() + [False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            out.append((start, i - start))
            start = None
    return out


@pytest.mark.parametrize("rate", [0.15, 0.5])
def test_rate_within_binomial_tolerance_for_independent_tokens(rate):
    # ≥ 48 real tokens: a row with no masked token (then one is forced) has probability
    # ≤ 0.85^48 ≈ 4e-4, too rare to move the count.
    ids, mask = padded_batch(4000, 64, 48)
    masked_inputs, targets = mask_tokens(ids, mask, rate, 1, MASK_ID, torch.Generator().manual_seed(1))
    masked = targets != IGNORE
    n = int(mask.sum())
    # Each real token is masked independently with probability `rate`: Binomial(n, rate).
    tolerance = 5 * math.sqrt(n * rate * (1 - rate))
    assert abs(int(masked.sum()) - n * rate) < tolerance
    # Independent: a pair of neighbouring real tokens is masked together with rate².
    pairs = mask[:, 1:] & mask[:, :-1]
    both = int((masked[:, 1:] & masked[:, :-1] & pairs).sum())
    m = int(pairs.sum())
    assert abs(both - m * rate**2) < 5 * math.sqrt(m * rate**2 * (1 - rate**2))


@pytest.mark.parametrize("span", [1, 3, 5])
def test_spans_and_padding(span):
    rate = 0.4
    ids, mask = padded_batch(1500, 60, 40)
    masked_inputs, targets = mask_tokens(ids, mask, rate, span, MASK_ID, torch.Generator().manual_seed(2))
    masked = targets != IGNORE
    assert not (masked & ~mask).any()  # never padding
    assert torch.equal(masked_inputs[~mask], ids[~mask])
    assert torch.equal(masked_inputs, torch.where(masked, torch.full_like(ids, MASK_ID), ids))
    assert torch.equal(targets[masked], ids[masked])  # the original ids at masked positions
    # Each block of `span` positions is masked with probability `rate`, so the count's
    # variance is rate(1-rate)·Σ_blocks (real tokens in the block)² ≤ rate(1-rate)·span·n.
    n = int(mask.sum())
    assert abs(int(masked.sum()) - n * rate) < 5 * math.sqrt(rate * (1 - rate) * span * n)
    lengths_seen = set()
    for row, real in zip(masked, mask, strict=True):
        last_real = int(real.sum()) - 1
        inner = [(s, length) for s, length in runs(row) if s > 0 and s + length - 1 < last_real]
        # Runs away from the ends are whole blocks: a multiple of span long, starting on the
        # row's block grid.
        assert all(length % span == 0 for _, length in inner)
        assert len({s % span for s, _ in inner}) <= 1
        lengths_seen.update(length for _, length in inner)
    assert span in lengths_seen  # single blocks occur, not only merged ones


def test_every_sequence_with_real_tokens_gets_a_masked_token():
    ids, mask = padded_batch(2000, 16, 1)
    mask[:5] = False  # rows of padding only: nothing to mask
    ids = ids.masked_fill(~mask, 0)
    _, targets = mask_tokens(ids, mask, 0.01, 2, MASK_ID, torch.Generator().manual_seed(3))
    masked = targets != IGNORE
    assert masked[5:].any(1).all()
    assert not masked[:5].any() and not (masked & ~mask).any()


def test_masks_follow_the_generator_not_the_ids():
    ids, mask = padded_batch(8, 32, 10)
    first = mask_tokens(ids, mask, 0.5, 1, MASK_ID, torch.Generator().manual_seed(4))[1] != IGNORE
    again = mask_tokens(ids + 1, mask, 0.5, 1, MASK_ID, torch.Generator().manual_seed(4))[1] != IGNORE
    other = mask_tokens(ids, mask, 0.5, 1, MASK_ID, torch.Generator().manual_seed(5))[1] != IGNORE
    assert torch.equal(first, again) and not torch.equal(first, other)


@pytest.mark.parametrize("rate, span", [(0.0, 1), (1.5, 1), (0.5, 0), (0.5, 1.5)])
def test_bad_rate_or_span_is_refused(rate, span):
    ids, mask = padded_batch(2, 8, 2)
    with pytest.raises(ValueError):
        mask_tokens(ids, mask, rate, span, MASK_ID, torch.Generator())


def test_next_token_targets_within_real_tokens():
    ids = torch.tensor([[5, 6, 7, 0, 0], [1, 2, 3, 4, 8], [9, 0, 0, 0, 0]])
    mask = ids != 0
    expected = torch.tensor([[6, 7, -100, -100, -100], [2, 3, 4, 8, -100], [-100] * 5])
    assert torch.equal(next_token_targets(ids, mask), expected)
    assert torch.equal(ids, torch.tensor([[5, 6, 7, 0, 0], [1, 2, 3, 4, 8], [9, 0, 0, 0, 0]]))
