"""Text: Vietnamese normalisation, folding, syllables, word segmentation and dates. Pure, no I/O."""
