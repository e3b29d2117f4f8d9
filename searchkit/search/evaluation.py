"""Relevance evaluation of ranked runs against judgements, with trec_eval's definitions.

The measures are ``ir-measures``' (trec_eval's own code through ``pytrec_eval``, and MS MARCO's
reciprocal rank at a cut-off); this module reads judgements and queries and shapes the report. It
works on plain dictionaries: it knows nothing of the index, so any system's
ranking (searchkit's or a baseline's) is scored the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from searchkit.errors import SearchkitError

# The cut-offs reported; a run is first truncated to ``depth``, as trec_eval's ``-M`` does.
MRR_CUTOFF = 10
NDCG_CUTOFF = 10
RECALL_CUTOFFS = (1, 10, 100)


@dataclass(frozen=True)
class Query:
    """One evaluation question: its id in the qrels and the text a user would type."""

    id: str
    text: str


@dataclass
class EvalReport:
    """Mean scores over the judged queries, and the same scores for each query."""

    mrr_at_10: float
    ndcg_at_10: float
    recall_at_1: float
    recall_at_10: float
    recall_at_100: float
    queries: int
    per_query: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, per_query: bool = True) -> dict[str, Any]:
        """A JSON-ready dictionary; ``per_query=False`` keeps only the means."""
        data = asdict(self)
        if not per_query:
            del data["per_query"]
        return data


def load_queries(path: str | Path) -> list[Query]:
    """Read a JSONL file of ``{"id", "text"}`` objects, in file order."""
    queries: list[Query] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                queries.append(Query(id=str(row["id"]), text=str(row["text"])))
            except (ValueError, KeyError, TypeError) as error:
                raise SearchkitError(f"{path}:{number}: not a query object ({error})") from None
    return queries


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Read judgements as ``{query_id: {doc_id: grade}}``.

    Accepts ``query_id<TAB>doc_id<TAB>grade`` and TREC's ``qid iteration docid grade``
    separated by any whitespace. A first line whose grade is not a number is taken for a header
    and skipped.
    """
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 3:
                parts = line.split()
            if len(parts) == 4:
                query_id, _iteration, doc_id, grade = parts
            elif len(parts) == 3:
                query_id, doc_id, grade = parts
            else:
                raise SearchkitError(f"{path}:{number}: expected 3 or 4 fields, found {len(parts)}")
            try:
                value = int(grade)
            except ValueError:
                if number == 1:
                    continue
                message = f"{path}:{number}: grade {grade!r} is not an integer"
                raise SearchkitError(message) from None
            qrels.setdefault(query_id.strip(), {})[doc_id.strip()] = value
    return qrels


def run_queries(
    queries: list[Query],
    search: Callable[[str], list[str]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Runs each query through ``search`` (text -> ranked doc ids): the run, and the failures.

    A query the engine refuses (a ``SearchkitError``: nothing searchable, too long) retrieves
    nothing, as it would for a user, and its reason is kept by query id.
    """
    run: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    for done, query in enumerate(queries, 1):
        try:
            run[query.id] = search(query.text)
        except SearchkitError as exc:
            run[query.id] = []
            failed[query.id] = str(exc)
        if progress is not None:
            progress(done, len(queries))
    return run, failed


def write_run(
    path: str | Path, run: dict[str, list[str]], scores: dict[str, list[float]], tag: str = "searchkit"
) -> None:
    """Write a run in TREC's format, ``qid Q0 docid rank score tag`` per line, in the run's order.

    ``scores[query_id]`` holds the score of each ranked document (missing ones are written as the
    rank's reverse, so that trec_eval, which orders a run by score, keeps the ranking). Fields are
    separated by spaces, so an id holding white space cannot be written.
    """
    lines = []
    for query_id, ranking in run.items():
        given = scores.get(query_id, [])
        for rank, doc_id in enumerate(ranking, 1):
            for name, value in (("query id", query_id), ("document id", doc_id), ("tag", tag)):
                if not value or any(ch.isspace() for ch in value):
                    raise SearchkitError(f"{name} {value!r} cannot be written in a TREC run file (white space)")
            score = given[rank - 1] if rank <= len(given) else float(len(ranking) - rank + 1)
            lines.append(f"{query_id} Q0 {doc_id} {rank} {score:.6f} {tag}\n")
    try:
        Path(path).write_text("".join(lines), encoding="utf-8")
    except OSError as error:
        raise SearchkitError(f"cannot write the run file {path}: {error.strerror or error}") from None


def evaluate(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]], *, depth: int = 100
) -> EvalReport:
    """Score a run (query id -> ranked doc ids) against ``qrels``, with ``ir-measures``.

    As trec_eval: a document is relevant when its grade is above 0; queries only in the run are
    ignored; queries judged but absent from the run score 0 (trec_eval's ``-c``). Queries with no
    relevant document at all cannot be scored by any system and are left out of the means. A
    document repeated in a ranking counts once, at its first rank.
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    import ir_measures  # imported here: scoring is not on any query's path

    judged = {
        query_id: grades for query_id, grades in qrels.items() if any(grade > 0 for grade in grades.values())
    }
    rankings = {query_id: list(dict.fromkeys(run.get(query_id, [])))[:depth] for query_id in judged}
    # trec_eval orders a run by score, not by the order given: strictly falling scores keep the ranking.
    scored = {
        query_id: {doc_id: float(len(ranking) - rank) for rank, doc_id in enumerate(ranking)}
        for query_id, ranking in rankings.items()
        if ranking
    }
    measures = {
        ir_measures.RR @ MRR_CUTOFF: "mrr_at_10",
        ir_measures.nDCG @ NDCG_CUTOFF: "ndcg_at_10",
        **{ir_measures.R @ cutoff: f"recall_at_{cutoff}" for cutoff in RECALL_CUTOFFS},
    }
    values: dict[str, dict[str, float]] = {query_id: {} for query_id in judged}
    means = dict.fromkeys(measures.values(), 0.0)
    if judged:
        # A judged query missing from the run gets each measure's default (0), and counts in its mean.
        results = ir_measures.evaluator(list(measures), judged).calc(scored)
        for metric in results.per_query:
            values[metric.query_id][measures[metric.measure]] = float(metric.value)
        means = {measures[measure]: float(value) for measure, value in results.aggregated.items()}
    rows = []
    for query_id, ranking in rankings.items():
        relevant = {doc_id for doc_id, grade in judged[query_id].items() if grade > 0}
        first_relevant = next((rank for rank, doc_id in enumerate(ranking, 1) if doc_id in relevant), None)
        row: dict[str, Any] = {
            "query_id": query_id,
            "first_relevant_rank": first_relevant,
            "retrieved": len(ranking),
            "relevant": len(relevant),
        }
        rows.append(row | {key: values[query_id].get(key, 0.0) for key in measures.values()})
    return EvalReport(**means, queries=len(rows), per_query=rows)
