"""Shared fixtures: small indexes built once from the real seed articles, news articles in every format and the
corpora of corpora.py, and copies of the seeds and their index for a test to change."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from corpora import Built, OddIds, write_hostile, write_odd_ids
from pristine_seeds import write_seeds

from searchkit.build.index import build


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five seed articles as the repository holds them (never the working seeds/, where a user's own
    articles go; see pristine_seeds), in a folder of the run's own, so no test can change the project's."""
    return write_seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="session")
def seeds_index(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of the seed articles, built once per test run; tests must not write to it."""
    index_dir = tmp_path_factory.mktemp("index")
    build(seeds_dir, index_dir, procs=1)
    return index_dir


@pytest.fixture
def folders(seeds_dir: Path, seeds_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the seed articles and of their index, which a test may change."""
    seeds = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    return seeds, Path(shutil.copytree(seeds_index, tmp_path / "index"))


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The hostile articles (corpora.write_hostile) and their index; tests must not write to them."""
    seeds = write_hostile(tmp_path_factory.mktemp("hostile-seeds"))
    index_dir = tmp_path_factory.mktemp("hostile-index")
    build(seeds, index_dir, procs=1)
    return Built(seeds, index_dir)


@pytest.fixture(scope="session")
def odd_ids(tmp_path_factory: pytest.TempPathFactory) -> OddIds:
    """The articles with awkward ids (corpora.write_odd_ids) and their index; tests must not write to them."""
    seeds = tmp_path_factory.mktemp("odd-seeds")
    words = write_odd_ids(seeds)
    index_dir = tmp_path_factory.mktemp("odd-index")
    report = build(seeds, index_dir, procs=1)
    assert report.added == len(words) and not report.skipped
    return OddIds(seeds, index_dir, words)


# A small news archive: dates written every way the articles' sites write them, sources and tags
# spelled with and without accents, an article without a date and one whose date is no date.
NEWS_MARKDOWN = {
    "tuoi-tre-tuyen-sinh.md": (
        "---\ntitle: Hà Nội công bố lịch tuyển sinh lớp 10\ndate: 2024-05-22T07:30:00+07:00\n"
        "source: Tuổi Trẻ\ntags: [giáo dục, Hà Nội]\nurl: https://tuoitre.example/tuyen-sinh\n---\n"
        "Sở Giáo dục Hà Nội công bố lịch thi tuyển sinh lớp 10, kỳ thi lớn nhất Việt Nam năm nay.\n"
    ),
    "ngay-hong.md": (
        "---\ntitle: Mưa lớn ở miền Trung\ndate: 2024-13-45\nsource: Tuổi Trẻ\n---\n"
        "Mưa lớn kéo dài ở miền Trung Việt Nam làm nhiều tuyến đường ngập sâu.\n"
    ),
}
NEWS_RECORDS = [
    {
        "id": "vne-1",
        "title": "Giá vàng lập đỉnh mới",
        "text": "Giá vàng trong nước tăng mạnh, thị trường vàng Việt Nam sôi động.",
        "date": "15/05/2024",
        "source": "VnExpress",
        "tags": "kinh tế, giá vàng",
    },
    {
        "id": "vne-2",
        "title": "Xuất khẩu gạo đạt kỷ lục",
        "text": "Năm nay Việt Nam xuất khẩu gạo nhiều nhất từ trước tới nay.",
        "date": "2023-12-30T08:00:00+07:00",
        "source": "vnexpress",
        "tags": ["kinh tế"],
    },
    {
        "id": "tt-2",
        "title": "Học sinh đón năm mới",
        "text": "Học sinh khắp Việt Nam đón năm mới với nhiều hoạt động bổ ích.",
        "date": "01-01-2024",
        "source": "Tuoi Tre",
        "tags": ["giáo dục"],
    },
    {
        "id": "tn-1",
        "title": "Đội tuyển bóng đá thắng đậm",
        "text": "Đội tuyển bóng đá Việt Nam thắng đậm trong trận giao hữu.",
        "date": "2024-05-23",
        "source": "Thanh Niên",
        "tags": ["thể thao"],
    },
    {
        "id": "tn-2",
        "title": "Trường học xanh",
        "text": "Nhiều trường học ở Việt Nam trồng thêm cây xanh.",
        "source": "Thanh Niên",
        "tags": ["Giáo dục"],
    },
]
NEWS_TEXT = {
    "ban-tin.txt": (
        "Trang chủ\n\nHội chợ nông sản Việt Nam mở cửa\n\nThứ Hai, 15/04/2024\n\n"
        "Hội chợ nông sản Việt Nam mở cửa với hàng trăm gian hàng.\n"
    ),
}


@pytest.fixture(scope="session")
def news_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight news articles in the three formats (see NEWS_*), all mentioning "Việt Nam"."""
    target = tmp_path_factory.mktemp("news")
    for name, text in {**NEWS_MARKDOWN, **NEWS_TEXT}.items():
        (target / name).write_text(text, encoding="utf-8")
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in NEWS_RECORDS)
    (target / "tin.jsonl").write_text(lines, encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def news_index(news_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of the news articles, built once per test run; tests must not write to it."""
    index_dir = tmp_path_factory.mktemp("news-index")
    build(news_dir, index_dir, procs=1)
    return index_dir


# --- Xapian shard servers (searchkit.engines.xapian) ------------------------------------------------------------------


@pytest.fixture(scope="session")
def seeds_shards(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Three shard servers on 127.0.0.1 holding the seed articles, for the run; tests must not write to them."""
    from searchkit.build.shards import build as build_shards
    from searchkit.engines.xapian.servers import LocalShards

    with LocalShards(tmp_path_factory.mktemp("shard-servers"), 3) as servers:
        build_shards(seeds_dir, servers.shards, procs=1)
        yield servers


@pytest.fixture
def shard_servers(tmp_path: Path):
    """Three empty shard servers of a test's own, stopped after it."""
    from searchkit.engines.xapian.servers import LocalShards

    with LocalShards(tmp_path / "shard-servers", 3) as servers:
        yield servers


@pytest.fixture
def nest():
    """``nest(root, levels)`` makes folders named "d" ``levels`` deep below ``root`` (those already
    there are kept) and returns the deepest; they are removed again after the test, deepest first,
    because shutil.rmtree, with which pytest clears old temporary folders, recurses once per level."""
    tops: list[str] = []

    def make(root: Path, levels: int) -> Path:
        folder = str(root)
        tops.append(folder + "/d")
        for _ in range(levels):  # one by one: Path.mkdir(parents=True) recurses too
            folder += "/d"
            if not os.path.isdir(folder):
                os.mkdir(folder)
        return Path(folder)

    yield make
    for top in tops:
        stack = [top] if os.path.isdir(top) else []
        while stack:
            entries = list(os.scandir(stack[-1]))
            folders = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.path)
            if folders:
                stack.extend(folders)
            else:
                os.rmdir(stack.pop())


# --- One searcher per engine: the contract suite ----------------------------------------------------------------------
# A test taking ``news_searcher`` or ``seeds_searcher`` runs once on the embedded Whoosh index and once on three
# Xapian shards holding the same articles (skipped where xapian-tcpsrv or the bindings are missing): the behaviour
# a search promises is the same on either engine.

ENGINES = ("whoosh", "xapian")


def _shards_available() -> bool:
    import importlib.util
    import shutil

    from searchkit.engines.xapian.servers import SERVER

    return shutil.which(SERVER) is not None and importlib.util.find_spec("xapian") is not None


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a contract test runs on."""
    if request.param == "xapian" and not _shards_available():
        pytest.skip("the Xapian shards need xapian-tcpsrv and the xapian bindings (make test installs them)")
    return request.param


@pytest.fixture(scope="session")
def news_shards(news_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Three shard servers on 127.0.0.1 holding the news articles, for the run; tests must not write to them."""
    from searchkit.build.shards import build as build_shards
    from searchkit.engines.xapian.servers import LocalShards

    with LocalShards(tmp_path_factory.mktemp("news-shard-servers"), 3) as servers:
        build_shards(news_dir, servers.shards, procs=1)
        yield servers


def _engine_searcher(engine: str, index_dir: Path, shards_fixture: str, request, tmp_path_factory):  # noqa: ANN001, ANN202
    from searchkit.search.searcher import Searcher

    if engine == "whoosh":
        return Searcher(index_dir)
    servers = request.getfixturevalue(shards_fixture)
    return Searcher(shards=servers.shards, cache=tmp_path_factory.mktemp("shard-cache"))


@pytest.fixture(scope="module")
def news_searcher(engine: str, news_index: Path, request, tmp_path_factory: pytest.TempPathFactory):
    """A searcher on the news articles (``news_dir``), on each engine in turn."""
    with _engine_searcher(engine, news_index, "news_shards", request, tmp_path_factory) as opened:
        yield opened


@pytest.fixture(scope="module")
def seeds_searcher(engine: str, seeds_index: Path, request, tmp_path_factory: pytest.TempPathFactory):
    """A searcher on the seed articles, on each engine in turn."""
    with _engine_searcher(engine, seeds_index, "seeds_shards", request, tmp_path_factory) as opened:
        yield opened
