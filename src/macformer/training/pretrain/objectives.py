"""What self-pretraining predicts: masked tokens (`mlm`) or the next token (`lm`).

Both return targets [B, L] long holding the id to predict at each position, or -100
(cross-entropy's ignore_index) where nothing is predicted, so that the loss is taken
only at masked positions (mlm) or where a next real token exists (lm).
"""

from __future__ import annotations

import torch

IGNORE = -100  # F.cross_entropy's default ignore_index


def mask_tokens(input_ids: torch.Tensor, attention_mask: torch.Tensor, rate: float, span: int,
                mask_id: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask about `rate` of the real tokens, in spans of `span` consecutive positions.

    Each sequence is cut into blocks of `span` positions (block edges shifted by a random
    offset per sequence, so no position is always a block edge) and each block is masked
    with probability `rate`: every real token is then masked with probability exactly
    `rate`, padding never. A masked run is one or more whole blocks, so runs start on a
    block edge and last a multiple of `span`, except where cut by the end of the real
    tokens. A sequence with real tokens and no masked block gets the block of one of its
    real tokens masked, so each such sequence has a loss term (this adds to the rate only
    when (1 - rate)^(blocks) is not negligible).

    The draws come from `generator` on its own device (CPU by default), so the masks do
    not depend on where the model runs.

    input_ids, attention_mask: [B, L] (long; bool with True = real token).
    Returns masked_inputs [B, L] (mask_id at masked positions, input_ids elsewhere) and
    targets [B, L] (the original id at masked positions, -100 elsewhere).
    """
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"mask rate must be in (0, 1], got {rate}")
    if int(span) != span or span < 1:
        raise ValueError(f"mask span must be a positive integer, got {span}")
    batch, length = input_ids.shape
    real = attention_mask.bool()
    draw = {"generator": generator, "device": generator.device}
    offset = torch.randint(0, span, (batch, 1), **draw)  # [B, 1]
    block = (torch.arange(length, device=generator.device)[None] + offset) // span  # [B, L]
    chosen = torch.rand(batch, length // span + 2, **draw) < rate  # [B, blocks]
    # One real position per sequence, for the sequences that drew no masked block.
    fallback = torch.rand(batch, length, **draw)  # [B, L]
    block = block.to(input_ids.device)
    chosen, fallback = chosen.to(input_ids.device), fallback.to(input_ids.device)
    masked = chosen.gather(1, block) & real  # [B, L]
    empty = real.any(1) & ~masked.any(1)  # [B]
    if bool(empty.any()):
        pick = fallback.masked_fill(~real, -1.0).argmax(1, keepdim=True)  # [B, 1]: a real position
        masked |= (block == block.gather(1, pick)) & real & empty[:, None]
    masked_inputs = input_ids.masked_fill(masked, mask_id)  # [B, L]
    targets = input_ids.masked_fill(~masked, IGNORE)  # [B, L]
    return masked_inputs, targets


def next_token_targets(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """targets[:, t] = input_ids[:, t+1] where positions t and t+1 are both real, else -100.

    For causal encoders only: position t must see nothing after t, or the loss is trivial.
    input_ids, attention_mask: [B, L]. Returns targets [B, L]; the inputs stay as they are.
    """
    real = attention_mask.bool()
    targets = torch.full_like(input_ids, IGNORE)  # [B, L]
    both_real = real[:, :-1] & real[:, 1:]  # [B, L-1]
    targets[:, :-1] = input_ids[:, 1:].masked_fill(~both_real, IGNORE)
    return targets
