"""Where the Hydra configs live: conf/ at the repository root.

A leaf: it imports nothing of macformer, so the checks (which read the config groups'
files) and config.py (which composes them) both take it from here without importing
each other.
"""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"
