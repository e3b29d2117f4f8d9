"""Matches as arrays: sorted document numbers and their scores, and the operators of a compiled query on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Matches:
    """Documents (sorted, unique global numbers) and their scores. Without a ``__dict__`` (288 bytes
    an object more, and the posting cache keeps one a rare term)."""

    ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def scaled(self, factor: float) -> Matches:
        return self if factor == 1.0 else Matches(self.ids, self.scores * factor)

    def subset(self, keep: np.ndarray) -> Matches:
        """The matches where the mask ``keep`` is true."""
        return Matches(self.ids[keep], self.scores[keep])


EMPTY = Matches(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))


def from_lists(ids: list[int], scores: list[float]) -> Matches:
    """Matches from document numbers in any order and their scores."""
    if not ids:
        return EMPTY
    order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
    return Matches(np.asarray(ids, dtype=np.int64)[order], np.asarray(scores)[order])


def best_ids(matches: Matches, count: int) -> np.ndarray:
    """The sorted document numbers of the ``count`` best-scored matches (all, if fewer)."""
    if len(matches) <= count:
        return matches.ids
    best = np.argpartition(-matches.scores, count - 1)[:count]
    return np.sort(matches.ids[best])


def union(parts: list[Matches], coord: float = 0.0) -> Matches:
    """Documents matching any part, scores summed.

    With ``coord`` (0–1), a document matching ``m`` of the ``n`` parts keeps ``(m / n) ** coord``
    of its score: matching more of a question's words counts for more than matching one often.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY
    if len(parts) == 1 and not coord:
        return parts[0]
    ids = np.concatenate([p.ids for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    unique, inverse = np.unique(ids, return_inverse=True)
    summed = np.bincount(inverse, weights=scores, minlength=len(unique))
    if coord:
        matched = np.bincount(inverse, minlength=len(unique))
        summed = summed * (matched / len(parts)) ** coord
    return Matches(unique, summed)


def intersection(parts: list[Matches]) -> Matches:
    """Documents matching every part, scores summed."""
    if not parts or any(not len(p) for p in parts):
        return EMPTY
    common = parts[0].ids
    for p in parts[1:]:
        common = np.intersect1d(common, p.ids, assume_unique=True)
    total = np.zeros(len(common))
    for p in parts:
        total += p.scores[np.searchsorted(p.ids, common)]
    return Matches(common, total)


def without(kept: Matches, dropped: Matches) -> Matches:
    if not len(dropped) or not len(kept):
        return kept
    mask = ~np.isin(kept.ids, dropped.ids, assume_unique=True)
    return Matches(kept.ids[mask], kept.scores[mask])


def add_within(base: Matches, extra: Matches) -> Matches:
    """``base`` with the scores ``extra`` gives the same documents added."""
    if not len(extra) or not len(base):
        return base
    positions = np.searchsorted(extra.ids, base.ids)
    positions[positions == len(extra.ids)] = 0
    hit = extra.ids[positions] == base.ids
    return Matches(base.ids, base.scores + np.where(hit, extra.scores[positions], 0.0))


def top(matches: Matches, count: int, tiers: list[np.ndarray] = ()) -> list[tuple[int, float]]:
    """The ``count`` best (document, score) pairs, ties by document order.

    ``tiers`` order the documents before their scores do: the first tier's counts first, then the next's.
    """
    if not len(matches) or count <= 0:
        return []
    keys = [matches.ids, -matches.scores] + [-tier for tier in reversed(tiers)]
    order = np.lexsort(keys)[:count]
    return [(int(matches.ids[i]), float(matches.scores[i])) for i in order]


def ends_in_order(positions: list[list[int]], slop: int) -> set[int]:
    """The positions of the last list that end a run, one position from each list following the
    previous one by 1 to ``slop``; empty when there is none."""
    reachable = set(positions[0])
    for following in positions[1:]:
        if slop == 1:  # the ranking's phrases and pairs: each word right after the last
            reachable = {r + 1 for r in reachable}.intersection(following)
        else:
            reachable = {p for p in following if any(0 < p - r <= slop for r in reachable)}
        if not reachable:
            return reachable
    return reachable


def contenders(ids: np.ndarray, candidates: np.ndarray, counts: list[np.ndarray], keep: int) -> np.ndarray:
    """The ``candidates`` (sorted, among the sorted ``ids``) that can still be among the ``keep`` first
    once the levels after ``counts`` are placed: those whose counts so far, read as one key level by level,
    are at least the ``keep``-th best candidate's. Any other has ``keep`` candidates ahead of it whatever
    the next levels give, so their counts cannot reach the first ``keep`` places and need not be placed."""
    if len(candidates) <= keep or keep < 1:
        return candidates
    at = np.searchsorted(ids, candidates)
    placed = [count[at] for count in counts]
    # The keep-th best by the levels so far (np.lexsort's last key is its first).
    kth = np.lexsort([-level for level in reversed(placed)])[keep - 1]
    ahead, tied = np.zeros(len(candidates), dtype=bool), np.ones(len(candidates), dtype=bool)
    for level in placed:
        ahead |= tied & (level > level[kth])
        tied &= level == level[kth]
    return candidates[ahead | tied]
