"""How often the articles and their titles write words side by side: the evidence typo correction
(``searchkit.search.correction``) weighs a word's readings by, read through restoration's cache of counts."""

from __future__ import annotations

from searchkit.engines.spellings import PHRASES, Spellings
from searchkit.search.neighbours import Syllables
from searchkit.text.analysis import accent_key

# A word the index writes is read as another only where a pair with a word beside it is written this
# many times more often so: a correctly typed query (its pairs written) costs no model at all.
PAIR_ODDS = 10
# The titles' runs of words are counted up to three words long (``searchkit.engines.spellings``): a word's
# reading is checked in each run of so many words holding it (:meth:`_Pairs.titled_around`).
TITLE_WINDOW = 3
# Title pairs share restoration's cache of counts, under keys no accent term starts with.
_TITLED = "\x00titled "


class Pairs:
    """How often the articles write two folded syllables side by side, read through restoration's cache."""

    def __init__(self, lexicon: Spellings, cache: dict | None):
        self.lexicon = lexicon
        self.cache = {} if cache is None else cache

    def count(self, first: str, second: str) -> float:
        return sum(self._spellings(first, second).values())

    def _spellings(self, first: str, second: str) -> dict[str, float]:
        # The pair's spellings as read, not read back from the cache: another thread may empty it.
        key = accent_key([first, second])
        found = self.cache.get(key)
        if found is None:
            found = {term[len(key) :]: float(n) for term, n in self.lexicon.spellings(key).items()}
            self.cache[key] = found
        return found

    def titled(self, first: str, second: str) -> float:
        """How often titles write two folded words side by side (``sea games``: beside foreign words too)."""
        key = _TITLED + first + " " + second
        found = self.cache.get(key)
        if found is None:
            rows = self.lexicon.prefixed(PHRASES, first + " " + second + "|", words=2, limit=1)
            found = self.cache[key] = {"": float(rows[0][1]) if rows else 0.0}
        return found[""]

    def titled_around(self, word: str, folds: list[str], i: int) -> float:
        """How often titles write ``word`` (folded) in the ``i``-th place of the run of words ``folds`` with
        the words around it: each run of :data:`TITLE_WINDOW` words holding that place (of all the words, in a
        shorter run), counted together. A word at a query's end has words on one side only, and a title read
        from its start writes them (``bao my siu tau san bay``: ``siêu tàu sân`` is written, ``sau tàu sân``
        not, though ``Mỹ sau`` is written more than ``Mỹ siêu``)."""
        size = min(TITLE_WINDOW, len(folds))
        read = folds[:i] + [word] + folds[i + 1 :]
        starts = range(max(0, i - size + 1), min(i, len(read) - size) + 1)
        return sum(self.titled_words(read[a : a + size]) for a in starts)

    def titled_context(self, word: str, folds: list[str], i: int) -> float:
        """How often titles write ``word`` (folded) in the ``i``-th place of the run of words ``folds`` with
        the words around it: the run of :data:`TITLE_WINDOW` words centred on it, or at the run's edge the one
        starting or ending with it (``luon bang quang``: ``lương bằng quang``, where ``luon bang`` alone is
        written too)."""
        size = min(TITLE_WINDOW, len(folds))
        start = min(max(i - size // 2, 0), len(folds) - size)
        read = folds[:i] + [word] + folds[i + 1 :]
        return self.titled_words(read[start : start + size])

    def titled_run(self, word: str, beside: list[tuple[str, bool]]) -> float:
        """How often titles write ``word`` (folded) with the words ``beside`` it, as typed around it."""
        run = [w for w, before in beside if before] + [word] + [w for w, before in beside if not before]
        return self.titled_words(run)

    def titled_words(self, run: list[str]) -> float:
        """How often titles write the folded words ``run`` side by side."""
        key = _TITLED + " ".join(run)
        found = self.cache.get(key)
        if found is None:
            rows = self.lexicon.prefixed(PHRASES, " ".join(run) + "|", words=2, limit=1)
            found = self.cache[key] = {"": float(rows[0][1]) if rows else 0.0}
        return found[""]

    def counted(self, first: str, second: str, syllables: Syllables) -> float:
        """How often two folded words are written side by side: by the articles between Vietnamese syllables,
        by the titles beside a foreign word (``sea games``, which no pair of the articles counts)."""
        if first not in syllables or second not in syllables:
            return 0.0
        if syllables.vietnamese(first) and syllables.vietnamese(second):
            return self.count(first, second)
        return self.titled(first, second)

    def written(self, first: str, second: str, syllables: Syllables) -> bool:
        """Whether the articles write two folded syllables side by side, or a title does."""
        if first not in syllables or second not in syllables:
            return False
        if syllables.vietnamese(first) and syllables.vietnamese(second) and self.count(first, second):
            return True
        return bool(self.titled(first, second))

    def spelt(self, folded: str, form: str, other: str, before: bool) -> float:
        """How often the articles write the syllable ``form`` (folded ``folded``) beside ``other`` (folded),
        after it if ``before``."""
        pair = [other, folded] if before else [folded, other]
        side = 1 if before else 0
        return sum(n for term, n in self._spellings(*pair).items() if term.split(" ")[side : side + 1] == [form])

    def supports(self, candidate: str, typed: str, beside: list[tuple[str, bool]], odds: float = PAIR_ODDS) -> bool:
        """Whether a word beside makes a pair with ``candidate`` written far more often than with ``typed``
        (``odds`` times as often, and more than once)."""
        for other, before in beside:

            def pair(word: str, other: str = other, before: bool = before) -> float:
                return self.count(other, word) if before else self.count(word, other)

            if pair(candidate) > odds * max(pair(typed), 1.0):
                return True
        return False

    def heard(self, typed: str, beside: list[tuple[str, bool]], syllables: Syllables) -> float | None:
        """How often the articles write ``typed`` beside a word ``beside`` it, at most; ``None`` where no pair
        is counted (pairs are counted between Vietnamese syllables only)."""
        counted = [(other, before) for other, before in beside if syllables.vietnamese(other)]
        if not counted or not syllables.vietnamese(typed):
            return None
        return max(self.count(other, typed) if before else self.count(typed, other) for other, before in counted)

    def least(self, typed: str, beside: list[tuple[str, bool]], syllables: Syllables) -> float:
        """How often the articles write ``typed`` beside a word ``beside`` it, on its least written side
        (pairs counted between Vietnamese syllables only)."""
        counted = [(other, before) for other, before in beside if syllables.vietnamese(other)]
        return min(self.count(other, typed) if before else self.count(typed, other) for other, before in counted)
