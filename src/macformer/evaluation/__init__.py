"""Re-testing a trained run: `macformer-evaluate RUN_DIR|CKPT` (README.md)."""
