"""The multi-task architecture corpus: record schema, resumable builder, loading with ``datasets``."""

from .config import CorpusConfig, ConfigError
from .load import load
from .schema import COLUMNS, FAILURE_STATUSES

__all__ = ["COLUMNS", "ConfigError", "CorpusConfig", "FAILURE_STATUSES", "load"]
