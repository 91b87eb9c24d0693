"""macformer-lra: Random Maclaurin Feature Attention on the Long Range Arena."""

__version__ = "0.1.0"
