"""gradlint: find the causes of vanishing and exploding gradients before training."""

__version__ = "0.1.0"
