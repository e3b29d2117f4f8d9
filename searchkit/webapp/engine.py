"""The engine the faces read from and write to: the embedded index in a folder, or Xapian shard servers.

The command line and the web app take the same two options (``--index`` and ``--shards``); the choice between
the engines they name is made here once, by :func:`open_engine`, and every command and the app asks what it
returns for a searcher, the live pool of searchers, a build or the files added. Nothing heavy is imported with
this module: the build path when something is built, the Xapian bindings (an optional dependency) when shards
are named.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from searchkit.engines.whoosh import generations
from searchkit.search.searcher import Searcher

if TYPE_CHECKING:
    from searchkit.build.index import BuildReport


def open_engine(index_dir: Path | str, shards: str | Sequence[Any] | None = None) -> EmbeddedIndex | ShardServers:
    """The embedded index in ``index_dir``, or the Xapian ``shards`` when given (``HOST:PORT,…`` as typed, or
    the shards already parsed); ``index_dir`` then keeps only the shards' summed statistics."""
    if shards:
        return ShardServers(Path(index_dir), shards)
    return EmbeddedIndex(Path(index_dir))


class EmbeddedIndex:
    """The Whoosh index in a folder of this machine, built from an articles folder of this machine too."""

    option = "--index"
    # Its articles folder is this machine's: the pages can say when it changed, articles can be written to it.
    built_here = True

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self.shards = None
        self.where = f"the index in {index_dir}"

    def searcher(self) -> Searcher:
        return Searcher(self.index_dir)

    def live(self) -> Any:
        """The pool of searchers a server answers from, reopened on each new build."""
        from searchkit.search.live import LiveIndex

        return LiveIndex(self.index_dir)

    def ready(self) -> bool:
        """Whether the index holds a published build of this version, ready for queries."""
        return generations.state(self.index_dir) == "ready"

    def built_from(self) -> str | None:
        """The articles folder (or file) the index was built from, as an absolute path; None when unknown."""
        return generations.built_from(self.index_dir)

    def build(self, seeds_dir: Path, **options: Any) -> BuildReport:
        """The index brought up to date with ``seeds_dir`` (see :func:`searchkit.build.index.build`)."""
        from searchkit.build import index

        return index.build(seeds_dir, self.index_dir, **options)

    def add_files(self, files: Sequence[Path], seeds_dir: Path, **options: Any) -> BuildReport:
        """``files`` copied into ``seeds_dir`` and indexed (see :func:`searchkit.build.index.add_files`)."""
        from searchkit.build import index

        return index.add_files(files, seeds_dir, self.index_dir, **options)

    def build_command(self, seeds_dir: Path) -> str:
        return f"searchkit index --seeds {seeds_dir} --index {self.index_dir}"


class ShardServers:
    """Xapian shard servers (``xapian-tcpsrv``), built from wherever their builds run."""

    option = "--shards"
    built_here = False

    def __init__(self, index_dir: Path, shards: str | Sequence[Any]):
        from searchkit.engines.xapian.connection import parse_shards

        self.index_dir = index_dir
        self.shards = parse_shards(shards) if isinstance(shards, str) else list(shards)
        # As typed (the command to run names them so), and as read.
        self.named = shards if isinstance(shards, str) else ",".join(str(shard) for shard in self.shards)
        self.addresses = ",".join(str(shard) for shard in self.shards)
        self.where = f"the shards {self.named}"

    def searcher(self) -> Searcher:
        return Searcher(self.index_dir, shards=self.shards)

    def live(self) -> Any:
        """The pool of searchers a server answers from, reopened when a shard's build commits."""
        from searchkit.search.live import LiveIndex

        return LiveIndex(self.index_dir, shards=self.shards)

    def ready(self) -> bool:
        """Whether any shard holds an article."""
        from searchkit.build import shards as build

        return not build.is_empty(self.shards)

    def built_from(self) -> str | None:
        return None  # the shards do not say

    def build(self, seeds_dir: Path, **options: Any) -> BuildReport:
        from searchkit.build import shards as build

        return build.build(seeds_dir, self.shards, **options)

    def add_files(self, files: Sequence[Path], seeds_dir: Path, **options: Any) -> BuildReport:
        from searchkit.build import shards as build

        return build.add_files(files, seeds_dir, self.shards, **options)

    def build_command(self, seeds_dir: Path) -> str:
        return f"searchkit index --seeds {seeds_dir} --shards {self.named}"
