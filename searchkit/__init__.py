"""searchkit: Vietnamese full-text search over a folder of articles."""

__version__ = "0.1.0"
