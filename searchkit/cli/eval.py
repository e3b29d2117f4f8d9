"""``searchkit eval``: the index's ranking scored against relevance judgements, with trec_eval's measures."""

from __future__ import annotations

from pathlib import Path

import click

from searchkit.cli import indexes
from searchkit.cli.commandline import errors
from searchkit.cli.meter import with_progress
from searchkit.cli.options import index_option, json_option, seeds_option, shards_option
from searchkit.cli.terminal import escaped, json_text
from searchkit.search import evaluation
from searchkit.search.searcher import MAX_LIMIT
from searchkit.text.analysis import fold


@click.command("eval")
@click.option(
    "--queries",
    "queries_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON Lines of {"id", "text"} questions.',
)
@click.option(
    "--qrels",
    "qrels_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Judgements: query_id<TAB>doc_id<TAB>grade per line.",
)
@seeds_option
@index_option
@json_option
@click.option(
    "--fold-queries",
    is_flag=True,
    help="Strip every diacritic from the queries first (đ → d too), as many users type.",
)
@click.option(
    "--per-query",
    is_flag=True,
    help="Also show each query: its text, the rank of its first relevant article, its RR@10, for a miss its top hit.",
)
@click.option(
    "--run",
    "run_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the ranking as a TREC run file (qid Q0 docid rank score tag), for trec_eval and the like.",
)
@shards_option
def eval_command(
    queries_path: Path,
    qrels_path: Path,
    seeds_dir: Path,
    index_dir: Path,
    as_json: bool,
    fold_queries: bool,
    per_query: bool,
    run_path: Path | None,
    shards: str | None,
) -> None:
    """Score the index's ranking against relevance judgements, with trec_eval's definitions.

    Every query runs through the same search as 'searchkit query' (its first 100 hits) and the
    means of MRR@10, nDCG@10, Recall@1, Recall@10 and Recall@100 are printed. An article read
    from a JSON Lines file is matched by its "id"; any other by its path in the articles folder.
    The index is built from --seeds first when there is none, e.g.

    \b
      searchkit eval --seeds data/xquad-vi/corpus.jsonl --index /tmp/xquad-index \\
          --queries data/xquad-vi/queries.jsonl --qrels data/xquad-vi/qrels.tsv --fold-queries
    """
    with errors():
        queries = evaluation.load_queries(queries_path)
        qrels = evaluation.load_qrels(qrels_path)
        if fold_queries:
            queries = [evaluation.Query(query.id, fold(query.text)) for query in queries]
        # Judgements naming "file#id" are matched whole; plain ones by the id alone.
        if run_path is not None:
            evaluation.write_run(run_path, {}, {})  # a run file that cannot be written fails before the run
        whole_ids = any("#" in doc for judged in qrels.values() for doc in judged)
        # What each query text found: its scores (for the run file) and its first hit (for --per-query).
        scores: dict[str, list[float]] = {}
        top_hits: dict[str, dict[str, str]] = {}
        with indexes.searcher(seeds_dir, index_dir, shards, quiet=as_json) as searcher:

            def search(text: str) -> list[str]:
                results = searcher.search(text, limit=MAX_LIMIT, snippets=False)
                ids = [hit.id if whole_ids else hit.id.split("#", 1)[-1] for hit in results.hits]
                scores[text] = [hit.score for hit in results.hits]
                if results.hits:
                    top_hits[text] = {"id": ids[0], "title": results.hits[0].title}
                return ids

            run, failed = with_progress(
                lambda progress: evaluation.run_queries(queries, search, progress=progress),
                quiet=as_json,
                label="Querying",
                unit="queries",
                one="query",
            )
        report = evaluation.evaluate(run, qrels, depth=MAX_LIMIT)
        judged = {doc for found in qrels.values() for doc in found}
        if run and not any(doc in judged for found in run.values() for doc in found):
            # Not one judged article among all the results: most likely the index of other articles.
            where = f"the shards {shards}" if shards else f"the index in {index_dir}"
            click.echo(
                escaped(f"Warning: no judged article is among the results: is {where} the index of these judgements?"),
                err=True,
            )


        texts = {query.id: query.text for query in queries}
        if run_path is not None:
            run_scores = {query.id: scores.get(query.text, []) for query in queries}
            evaluation.write_run(run_path, run, run_scores)
    for row in report.per_query:
        text = texts.get(row["query_id"])
        row |= {"text": text, "top_hit": top_hits.get(text) if text is not None else None}
    if as_json:
        data = report.to_dict(per_query=per_query) | {"fold_queries": fold_queries, "failed": failed}
        click.echo(json_text(data))
        return
    for query_id, reason in failed.items():
        click.echo(f"query {escaped(query_id)} failed: {escaped(reason)}", err=True)
    if per_query:
        _echo_per_query(report.per_query)
    typed = "without diacritics" if fold_queries else "as written"
    click.echo(f"{report.queries} judged queries, typed {typed}")
    for label, value in (
        ("MRR@10", report.mrr_at_10),
        ("nDCG@10", report.ndcg_at_10),
        ("Recall@1", report.recall_at_1),
        ("Recall@10", report.recall_at_10),
        ("Recall@100", report.recall_at_100),
    ):
        click.echo(f"{label:<11} {value:.4f}")


def _echo_per_query(rows: list[dict]) -> None:
    """One line per judged query (the misses readable at a glance), then its top hit when it is not relevant."""
    click.echo(f"{'query':<20} {'first relevant':>14} {'RR@10':>6}  text")
    for row in rows:
        first = row["first_relevant_rank"] or "-"
        text = escaped(row["text"] or "")
        click.echo(f"{escaped(row['query_id']):<20} {first:>14} {row['mrr_at_10']:>6.3f}  {text}")
        top = row["top_hit"]
        if row["first_relevant_rank"] != 1:
            shown = f"{escaped(top['title'])} ({escaped(top['id'])})" if top else "nothing found"
            click.echo(f"{'':<20} {'':>14} {'':>6}  top hit: {shown}")
    click.echo()
