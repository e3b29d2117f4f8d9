"""Corpus: reading articles from the articles folder (decoding, Markdown, metadata, freshness)."""
