"""Training with Lightning: the module (lit_module), the resumable loader, the CSV logger
that keeps earlier attempts (metrics_history), why fit ended (stop_reason), the random
states a checkpoint carries (rng_states), the self-pretraining stage of a run
(pretrain_stage) and its objectives, token head and module (pretrain/), and callbacks/, one
callback per file. The run around them (checks, resume, lock, the run
record) is macformer.lifecycle, which does not import Lightning.

The entry point is `macformer-train` (src/macformer/train.py), configured by conf/.
Nothing is imported here, so that importing one light module does not load Lightning.
"""
