"""Training: the Lightning module, its callbacks, resumption and the checks before a run.

The entry point is `macformer-train` (src/macformer/train.py), configured by conf/.
Nothing is imported here, so that importing one light module (checks, resume) does not
load Lightning.
"""
