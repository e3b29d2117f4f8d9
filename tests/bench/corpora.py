"""The benchmark's data: where it lives, how it is staged as seeds, which queries are timed."""

from __future__ import annotations

import gzip
import json
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The shared data sits next to the project, never inside it.
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
SEEDS = REPO_ROOT / "seeds"

XQUAD = Path("xquad-vi")
BAOMOI = Path("baomoi") / "articles.jsonl.gz"

SYLLABLE = re.compile(r"\w+")
# A fixed seed keeps the timed query set identical from run to run and machine to machine.
QUERY_SEED = 20170101
# Well under searchkit's default per-file limit (20 MiB).
SHARD_BYTES = 8 * 1024 * 1024


@dataclass
class StagedCorpus:
    """A seeds folder of JSONL files, and how much text went into it."""

    seeds_dir: Path
    articles: int
    syllables: int
    characters: int
    titles: list[str]


def _fold_locally(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # đ has no Unicode decomposition, so stripping marks leaves it.
    return unicodedata.normalize("NFC", stripped.replace("đ", "d"))


def query_folder() -> tuple[Callable[[str], str], str]:
    """The function that turns a typed query into its unaccented form, and where it comes from.

    searchkit's own ``fold`` when the package provides it, so the unaccented queries are exactly
    what its users type; otherwise an equivalent local one (strip every mark, đ → d, lower case).
    """
    try:
        from searchkit.text.analysis import fold
    except ImportError:
        return _fold_locally, "local"
    return fold, "searchkit.text.analysis.fold"


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


# Synthetic metadata for the news articles (the corpus has none): outlets and topics with a long tail,
# as a real archive has, and dates spread over three years. Each article's comes from its id alone.
NEWS_SOURCES = (
    "Tuổi Trẻ", "VnExpress", "Thanh Niên", "Dân Trí", "Vietnamnet", "Lao Động", "Người Lao Động",
    "Tiền Phong", "Nhân Dân", "Sài Gòn Giải Phóng", "Hà Nội Mới", "Báo Mới",
)
NEWS_TAGS = (
    "thời sự", "xã hội", "kinh tế", "thế giới", "giáo dục", "y tế", "thể thao", "giải trí", "pháp luật",
    "công nghệ", "du lịch", "giao thông", "bất động sản", "chứng khoán", "giá vàng", "nông nghiệp",
    "môi trường", "thời tiết", "văn hóa", "âm nhạc", "điện ảnh", "bóng đá", "Hà Nội", "TP.HCM", "Đà Nẵng",
    "miền Trung", "biển Đông", "an ninh", "quốc phòng", "ngân hàng", "xuất khẩu", "doanh nghiệp",
    "khởi nghiệp", "ô tô", "xe máy", "sức khỏe", "ẩm thực", "gia đình", "tuyển sinh", "việc làm",
)
NEWS_FIRST_DAY = date(2015, 1, 1)
NEWS_DAYS = 3 * 365
# One article in this many has no date, as scraped pages without a dateline do.
NEWS_UNDATED = 20


def news_metadata(article_id: str) -> dict:
    """Deterministic ``date``, ``source`` and ``tags`` for a news article: the same on every run."""
    rng = random.Random(f"{QUERY_SEED}:{article_id}")
    # Zipf-like weights: the first outlets and topics are much more frequent than the last.
    source = rng.choices(NEWS_SOURCES, weights=[1 / (n + 1) for n in range(len(NEWS_SOURCES))])[0]
    tags = rng.choices(NEWS_TAGS, weights=[1 / (n + 1) for n in range(len(NEWS_TAGS))], k=rng.randint(1, 3))
    day = NEWS_FIRST_DAY + timedelta(days=rng.randrange(NEWS_DAYS))
    undated = rng.randrange(NEWS_UNDATED) == 0
    return {"date": None if undated else day.isoformat(), "source": source, "tags": list(dict.fromkeys(tags))}


def stage(
    articles: Iterable[dict], seeds_dir: Path, name: str, metadata: Callable[[str], dict] | None = None
) -> StagedCorpus:
    """Write ``articles`` as ``<name>-NNN.jsonl`` files in a fresh seeds folder, counting them.

    Files are cut at ``SHARD_BYTES`` because a seeds folder is a user's folder of files, and
    searchkit skips a single file above its size limit rather than index a whole corpus from it.
    ``metadata(id)`` adds keys (``date``, ``source``, ``tags``) to each article.
    """
    seeds_dir.mkdir(parents=True, exist_ok=True)
    count = syllables = characters = 0
    titles = []
    shard, written, out = 0, 0, None
    try:
        for article in articles:
            row = {"id": article["id"], "title": article["title"], "text": article["text"]}
            if metadata is not None:
                row |= {key: value for key, value in metadata(article["id"]).items() if value is not None}
            line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
            if out is None or written + len(line) > SHARD_BYTES:
                if out is not None:
                    out.close()
                shard += 1
                out = open(seeds_dir / f"{name}-{shard:03d}.jsonl", "wb")
                written = 0
            out.write(line)
            written += len(line)
            count += 1
            syllables += len(SYLLABLE.findall(row["title"])) + len(SYLLABLE.findall(row["text"]))
            characters += len(row["title"]) + len(row["text"])
            titles.append(row["title"])
    finally:
        if out is not None:
            out.close()
    return StagedCorpus(seeds_dir, count, syllables, characters, titles)


def first(rows: Iterable[dict], limit: int | None) -> Iterator[dict]:
    for number, row in enumerate(rows):
        if limit is not None and number >= limit:
            return
        yield row


def repeated(read: Callable[[], Iterable[dict]], count: int) -> Iterator[dict]:
    """``count`` articles: ``read()``'s articles over and over, each pass after the first with distinct ids.

    The second pass's ``baomoi-7`` is ``baomoi-7-r2``, the third's ``baomoi-7-r3``: a collection larger
    than the corpus for growth figures (titles and texts repeat; relevance means nothing there).
    ``read`` is called once per pass, so the corpus is streamed, never held whole.
    """
    made, passes = 0, 0
    while made < count:
        passes += 1
        before = made
        for article in read():
            if made >= count:
                return
            yield article if passes == 1 else article | {"id": f"{article['id']}-r{passes}"}
            made += 1
        if made == before:
            return  # an empty corpus repeats to nothing


# Known items: every KNOWN_ITEM_EVERY-th news article in file order is looked for by the first
# KNOWN_ITEM_SYLLABLES syllables of its title (joined by single spaces), and only it is relevant.
KNOWN_ITEM_EVERY = 70
KNOWN_ITEM_SYLLABLES = 6


def known_items(articles: list[dict]) -> list[tuple[str, str, str]]:
    """``(query id, query typed with its accents, the article's id)`` for every 70th article."""
    items = []
    for number in range(0, len(articles), KNOWN_ITEM_EVERY):
        words = SYLLABLE.findall(articles[number]["title"])[:KNOWN_ITEM_SYLLABLES]
        if words:
            items.append((f"ki-{number:05d}", " ".join(words), articles[number]["id"]))
    return items


def latency_queries(titles: list[str], count: int, seed: int = QUERY_SEED) -> list[str]:
    """``count`` queries of 2–6 consecutive syllables cut from the titles, the same on every run."""
    usable = [words for words in (SYLLABLE.findall(title) for title in titles) if len(words) >= 2]
    if not usable:
        return []
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        words = rng.choice(usable)
        length = rng.randint(2, min(6, len(words)))
        start = rng.randint(0, len(words) - length)
        queries.append(" ".join(words[start : start + length]))
    return queries
