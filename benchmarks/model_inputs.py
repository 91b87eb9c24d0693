"""Q, K, V as a real model produces them: the project's ListOps encoder over ListOps tokens.

Sequences: ListOps trees drawn with LRA's law by the project's generator
(`macformer.data.generators.listops.generate_batch`), tokenised as LRA does (parentheses dropped),
and packed one after another into one stream of exactly `seq_len` real tokens (no
padding, so every query and key is real).

Model: `macformer.models.Encoder` with the authors' LRA shape (dim 64, 2 heads of 32,
2 layers), at initialisation (seed 0) unless a checkpoint is given. Q, K, V are what
the first block's projections feed its attention (a forward pre-hook captures them),
so they do not depend on which attention the encoder was built with.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from macformer.data.generators.listops import generate_batch
from macformer.data.tasks import LISTOPS_TOKEN_IDS, PAD_ID, task_spec
from macformer.models import Encoder


def listops_tokens(seq_len: int, seed: int = 0) -> torch.Tensor:
    """[seq_len] token ids: LRA-law ListOps trees, concatenated, cut at seq_len."""
    ids: list[int] = []
    batch = 0
    while len(ids) < seq_len:
        for expression, _ in generate_batch(seed, batch, n_trees=4000):
            ids += [LISTOPS_TOKEN_IDS[t] for t in expression.split() if t not in ("(", ")")]
        batch += 1
    return torch.tensor(ids[:seq_len])


def _encoder_state(checkpoint: Path) -> dict[str, torch.Tensor]:
    """The encoder's weights from a state_dict or a Lightning checkpoint (keys `...encoder.*`)."""
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)  # tensors only: never code
    except pickle.UnpicklingError as error:  # torch's message names the refused global amid advice
        refused = [line.strip() for line in str(error).splitlines() if "GLOBAL" in line]
        raise ValueError(f"{checkpoint}: refused to unpickle it ({(refused or ['not tensors and plain data'])[0]})"
                         ) from None
    state = state.get("state_dict", state)
    prefix = next((k[: k.index("token_embedding.")] for k in state if "token_embedding." in k), None)
    if prefix is None:
        raise ValueError(f"{checkpoint}: no encoder weights (no '...token_embedding.weight' key)")
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def model_qkv(seq_len: int, checkpoint: Path | None = None, seed: int = 0):
    """q, k, v [1, heads, seq_len, head_dim] from the first encoder block, and a description."""
    torch.manual_seed(seed)
    spec = task_spec("listops")
    encoder = Encoder(vocab_size=spec.vocab_size, max_length=max(seq_len, spec.seq_len),
                      attention="softmax")
    source = "ListOps encoder at initialisation (seed 0)"
    if checkpoint is not None:
        state = _encoder_state(Path(checkpoint))
        if state["position_embedding.weight"].shape[0] < seq_len:
            raise ValueError(f"{checkpoint}: positions stop before seq_len {seq_len}")
        encoder = Encoder(vocab_size=state["token_embedding.weight"].shape[0],
                          max_length=state["position_embedding.weight"].shape[0],
                          attention="softmax")
        # Attention internals (RMF draw, ppSBN γ) do not affect the first block's q, k, v.
        missing, unexpected = encoder.load_state_dict(
            {k: v for k, v in state.items() if ".attention." not in k}, strict=False)
        if missing or unexpected:
            raise ValueError(f"{checkpoint}: encoder weights do not match: missing {missing}, "
                             f"unexpected {unexpected}")
        source = f"ListOps encoder from {checkpoint}"
    encoder.eval()
    captured = {}

    def grab(module, args, kwargs):
        captured["qkv"] = [t.detach() for t in args[:3]]

    block = encoder.blocks[0]
    handle = block.attention.register_forward_pre_hook(grab, with_kwargs=True)
    tokens = listops_tokens(seq_len, seed)[None]  # [1, N]
    assert int((tokens == PAD_ID).sum()) == 0
    with torch.no_grad():
        encoder(tokens, torch.ones_like(tokens, dtype=torch.bool))
    handle.remove()
    q, k, v = captured["qkv"]  # [1, H, N, d] each
    return q, k, v, f"{source}, first block, {seq_len} packed ListOps tokens"
