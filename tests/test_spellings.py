"""Accent statistics kept beside the index: exact counts, kept exact by every kind of update."""

from __future__ import annotations

import shutil
from collections import Counter
from contextlib import closing
from pathlib import Path

from pristine_seeds import pristine_seeds

from searchkit.build import index
from searchkit.corpus.articles import read_articles
from searchkit.engines.spellings import FILE, SpellingCounts
from searchkit.engines.whoosh import generations
from searchkit.text.analysis import accent_terms

CAU_MOI = "Khánh thành cầu mới\n\nĐảng bộ thành phố Đông Hà khánh thành cầu mới, nêu gương đảng viên.\n"


def expected(seeds: Path) -> Counter[str]:
    """What the statistics must say: every accent term of every article, counted directly."""
    counts: Counter[str] = Counter()
    for article in read_articles(seeds):
        counts.update(accent_terms(article.title + "\n" + article.text))
    return counts


def stored(index_dir: Path) -> tuple[Counter[str], float]:
    with closing(index.open_spellings(index_dir)) as counts:
        found = Counter()
        for letter in "abcdefghijklmnopqrstuvwxyz":
            found.update(counts.spellings(letter))
        return found, counts.total()


def test_the_statistics_count_every_spelling_of_the_articles(seeds_dir: Path, seeds_index: Path):
    found, total = stored(seeds_index)
    assert found == expected(seeds_dir)
    assert total == sum(found.values())
    with closing(index.open_spellings(seeds_index)) as counts:
        assert counts.spellings("neu guong|") == {"neu guong|nêu gương": found["neu guong|nêu gương"]}
        assert found["neu guong|nêu gương"] >= 2
        assert counts.count("thanh uy|thành ủy") == found["thanh uy|thành ủy"] > 0
        assert counts.count("khong co|gì") == 0


def test_updates_keep_the_statistics_equal_to_a_fresh_count(seeds_dir: Path, seeds_index: Path, tmp_path: Path):
    seeds = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    index_dir = Path(shutil.copytree(seeds_index, tmp_path / "index"))
    incoming = tmp_path / "cau-moi.txt"
    incoming.write_text(CAU_MOI, encoding="utf-8")
    index.add_files([incoming], seeds, index_dir)
    assert stored(index_dir)[0] == expected(seeds)

    (seeds / "cau-moi.txt").write_text(CAU_MOI.replace("cầu mới", "cầu Hiền Lương"), encoding="utf-8")
    removed = sorted(seeds.glob("00*.txt"))[0]
    removed.unlink()
    index.build(seeds, index_dir)
    found, total = stored(index_dir)
    assert found == expected(seeds) and total == sum(found.values())
    assert "cau moi|cầu mới" not in found

    index.build(seeds, index_dir, rebuild=True)
    assert stored(index_dir)[0] == expected(seeds)


def test_worker_processes_count_as_one_process_does(seeds_dir: Path, tmp_path: Path):
    index.build(seeds_dir, tmp_path / "parallel", procs=2, workers=index.Workers(min_articles=2, batch=1))
    assert stored(tmp_path / "parallel")[0] == expected(seeds_dir)
    folder = generations.current(tmp_path / "parallel").path
    assert not [p for p in folder.iterdir() if p.name.startswith(".spellings")]


def test_a_generation_never_shares_its_statistics_file_with_the_next(seeds_dir: Path, seeds_index: Path, tmp_path):
    seeds = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    index_dir = Path(shutil.copytree(seeds_index, tmp_path / "index"))
    first = generations.current(index_dir).path / FILE
    before = first.read_bytes()
    (seeds / "cau-moi.txt").write_text(CAU_MOI, encoding="utf-8")
    index.build(seeds, index_dir)
    second = generations.current(index_dir).path / FILE
    assert first.read_bytes() == before and first.stat().st_ino != second.stat().st_ino
    with closing(SpellingCounts(first)) as old:
        assert old.count("cau moi|cầu mới") == 0


def test_a_long_article_s_accents_are_counted_a_piece_at_a_time_exactly(monkeypatch):
    import searchkit.engines.spellings
    from searchkit.engines.spellings import ACCENT_PIECE_CHARS, ACCENTS, counts_of

    body = "".join(path.read_text(encoding="utf-8") for path in sorted(pristine_seeds().iterdir()))
    body = body * 8  # about 350,000 characters
    listed: list[int] = []

    def counted(text: str) -> list[str]:
        listed.append(len(text))
        return accent_terms(text)

    monkeypatch.setattr(searchkit.engines.spellings, "accent_terms", counted)
    found = counts_of("Nêu gương", body)[ACCENTS]
    assert len(listed) > 2 and max(listed) <= ACCENT_PIECE_CHARS
    assert found == Counter(accent_terms("Nêu gương\n" + body))
