"""The LRA encoder and the classifiers on top of it (one encoder, or a dual encoder for retrieval)."""

from .classifier import DualSequenceClassifier, SequenceClassifier, build_classifier
from .encoder import Encoder, EncoderBlock

__all__ = ["DualSequenceClassifier", "Encoder", "EncoderBlock", "SequenceClassifier",
           "build_classifier"]
