"""An open index as the vocabulary Telex and VNI keys are read against (``keystrokes.Vocabulary``)."""

from __future__ import annotations

from searchkit.engines import fields as f
from searchkit.engines.backend import Statistics
from searchkit.engines.spellings import Spellings
from searchkit.text.analysis import accent_key, fold_syllable, normalize_syllable


class IndexVocabulary:
    """The spellings and term statistics of one open version of the index."""

    def __init__(self, reader: Statistics, spellings: Spellings):
        self.reader = reader
        self.spellings = spellings

    def spelt(self, syllable: str) -> float:
        form = normalize_syllable(syllable)
        return self.spellings.count(accent_key([form]) + form)

    def written(self, word: str) -> float:
        folded = fold_syllable(word)
        return sum(self.reader.frequency(name, folded) for name in f.TEXT_FIELDS)
