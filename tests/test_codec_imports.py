"""Whoosh as ``searchkit.engines.whoosh.codec.imports`` imports it: the stand-ins for the modules a query
never needs behave as the originals, and the originals are still there for whoever imports them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cached_property as cached_property_package
from commands import env
from whoosh.lang import morph_en

from searchkit.engines.whoosh.codec import imports

# The query's modules Whoosh alone would load: asyncio (cached-property), http, email and ssl (urllib.request).
NOT_LOADED = ("asyncio", "cached_property", "urllib.request", "http.client", "email", "ssl", "whoosh.lang.morph_en")


def fresh(code: str) -> dict:
    """What ``code``, run in a fresh interpreter with this checkout on its path, left in ``result``."""
    script = f"import json, sys\nresult = {{}}\n{code}\nprint(json.dumps(result))\n"
    done = subprocess.run([sys.executable, "-c", script], env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _counting(decorator):  # noqa: ANN001, ANN202 - a property decorator, and the class it makes
    class Reader:
        def __init__(self):
            self.calls = 0

        @decorator
        def deleted_docs_set(self):
            """The deleted documents."""
            self.calls += 1
            return frozenset({self.calls})

    return Reader


def test_the_reader_s_cached_property_caches_as_the_package_s_does():
    behaviours = []
    for decorator in (cached_property_package.cached_property, imports.cached_property):
        reader_class = _counting(decorator)
        reader = reader_class()
        first, again = reader.deleted_docs_set, reader.deleted_docs_set
        del reader.deleted_docs_set  # deleting the attribute computes it afresh
        behaviours.append(
            (first, again is first, reader.deleted_docs_set, reader.calls, reader_class.deleted_docs_set.__doc__)
        )
    assert behaviours[0] == behaviours[1] == (frozenset({1}), True, frozenset({2}), 2, "The deleted documents.")


def test_urlretrieve_copies_a_file_as_urllib_s_own(tmp_path: Path):
    from urllib.request import urlretrieve

    source = tmp_path / "bài viết.txt"
    source.write_text("Thành uỷ Đông Hà nêu gương", encoding="utf-8")
    name, headers = imports.urlretrieve(source.as_uri(), tmp_path / "copy.txt")
    expected_name, expected_headers = urlretrieve(source.as_uri(), tmp_path / "expected.txt")
    assert Path(name).read_bytes() == Path(expected_name).read_bytes() == source.read_bytes()
    assert headers["Content-length"] == expected_headers["Content-length"]
    assert imports.urlretrieve.__name__ == "urlretrieve"


def test_word_variations_are_morph_en_s():
    for word in ("rendering", "indexes", "search", "gương"):
        assert set(imports.variations(word)) == set(morph_en.variations(word))
    assert "rendered" in imports.variations("render")


def test_whoosh_imported_for_a_query_loads_none_of_them_and_reads_deletions(tmp_path: Path):
    result = fresh(f"""
import functools
import searchkit.engines.whoosh.backend
from whoosh import fields, index, reading
result["loaded"] = [name for name in {NOT_LOADED!r} if name in sys.modules]
result["functools"] = type(reading.SegmentReader.__dict__["deleted_docs_set"]) is functools.cached_property
ix = index.create_in({str(tmp_path)!r}, fields.Schema(key=fields.ID(stored=True, unique=True), body=fields.TEXT))
with ix.writer() as writer:
    for key in "abc":
        writer.add_document(key=key, body="cán bộ đảng viên nêu gương")
with ix.writer() as writer:
    writer.delete_by_term("key", "b")
with ix.reader() as reader:
    result["deleted"] = sorted(reader.deleted_docs_set)
    result["cached"] = reader.deleted_docs_set is reader.deleted_docs_set
""")
    assert result == {"loaded": [], "functools": True, "deleted": [1], "cached": True}


def test_the_real_modules_are_imported_when_called_and_by_whoever_imports_them(tmp_path: Path):
    source = tmp_path / "a.txt"
    source.write_text("nêu gương", encoding="utf-8")
    result = fresh(f"""
import searchkit.engines.whoosh.execute
from whoosh import compat
from whoosh.query import terms
name, _ = compat.urlretrieve({source.as_uri()!r}, {str(tmp_path / "b.txt")!r})
result["copied"] = open(name, encoding="utf-8").read()
import urllib.request
result["urllib"] = hasattr(urllib.request, "urlopen") and "urllib.request" in sys.modules
result["variations"] = "rendered" in terms.variations("render")
import whoosh.lang.morph_en
result["morph_en"] = whoosh.lang.morph_en.__file__.endswith("morph_en.py")
import cached_property
result["cached_property"] = hasattr(cached_property, "threaded_cached_property")
""")
    assert result == {"copied": "nêu gương", "urllib": True, "variations": True, "morph_en": True,
                      "cached_property": True}  # fmt: skip


def test_whoosh_keeps_the_originals_when_they_are_loaded_first():
    result = fresh("""
import cached_property, urllib.request
import searchkit.engines.whoosh.backend
from whoosh import compat, reading
result["urlretrieve"] = compat.urlretrieve is urllib.request.urlretrieve
result["cached_property"] = type(reading.SegmentReader.__dict__["deleted_docs_set"]) is cached_property.cached_property
""")
    assert result == {"urlretrieve": True, "cached_property": True}
