"""surrogate-hub: pretrained, transferable performance predictors for the einspace NAS space.

Importing this package is cheap: torch, transformers, xgboost and gradio are imported lazily by the
modules that need them.
"""

__version__ = "0.1.0"
