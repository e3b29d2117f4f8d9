"""The one choice between the embedded index and Xapian shards that the CLI and the web app both make."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchkit.errors import SearchkitError
from searchkit.webapp.engine import EmbeddedIndex, ShardServers, open_engine


def test_without_shards_the_faces_read_the_embedded_index(seeds_index: Path, seeds_dir: Path, tmp_path: Path):
    engine = open_engine(seeds_index)
    assert isinstance(engine, EmbeddedIndex) and engine.built_here
    assert engine.ready() and not open_engine(tmp_path / "none").ready()
    assert engine.built_from() == str(seeds_dir.resolve())
    with engine.searcher() as searcher:
        assert searcher.search("nêu gương").hits[0].id == "004_a29b889078a98f24.txt"


def test_shards_named_on_the_command_line_are_read_once_and_named_as_typed(tmp_path: Path):
    engine = open_engine(tmp_path / "index", "127.0.0.1:7001, [::1]:7002")
    assert isinstance(engine, ShardServers) and not engine.built_here
    assert [(shard.host, shard.port) for shard in engine.shards] == [("127.0.0.1", 7001), ("::1", 7002)]
    assert engine.where == "the shards 127.0.0.1:7001, [::1]:7002"
    assert engine.build_command(Path("news")) == "searchkit index --seeds news --shards 127.0.0.1:7001, [::1]:7002"
    # The app is given them parsed already: the same servers.
    assert open_engine(tmp_path / "index", engine.shards).shards == engine.shards


def test_a_shard_address_that_is_none_is_refused_with_its_code(tmp_path: Path):
    with pytest.raises(SearchkitError) as refused:
        open_engine(tmp_path / "index", "127.0.0.1:7001,nowhere")
    assert refused.value.code == "shards_invalid"
