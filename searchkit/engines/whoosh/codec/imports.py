"""Whoosh imported without the modules it loads for nothing a query does.

whoosh-reloaded 2.7.5 (pinned in ``pyproject.toml``, as is cached-property 2.0.1) imports, at the top of
its modules, three things searchkit never calls when it answers a query:

- ``cached_property`` (the PyPI package), for one property of the segment reader; the package imports
  asyncio, to cache coroutines, at its own import.
- ``urlretrieve`` in ``whoosh.compat``, which no module of Whoosh calls; ``urllib.request`` imports
  http.client, email and ssl.
- ``whoosh.lang.morph_en``, the English word variations of the ``Variations`` query (a thousand lines
  of patterns compiled at its import).

Together a fifth of a cold ``searchkit query``'s instructions on the seeds (227M of 1,155M). While
Whoosh's modules are first imported, stand-ins for those three sit in ``sys.modules`` (a module loaded
already is left as it is), and are taken out again once Whoosh holds them, so that any later import
gets the real module: ``functools.cached_property`` for the reader's property (the same caching for a
plain method, with no coroutine support that Whoosh needs), and functions that import the real
``urlretrieve`` and ``variations`` when first called. ``tests/test_codec_imports.py`` compares them with the originals.

Imported by ``searchkit.engines.whoosh`` before any of its modules imports Whoosh.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _importing_when_called(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for ``module.name`` that imports the module only when called, then calls the real function."""

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    stand_in.__name__ = stand_in.__qualname__ = name
    stand_in.__doc__ = f"{module}.{name}, imported at its first call."
    return stand_in


# The segment reader's one cached property: the standard library's.
cached_property = functools.cached_property
urlretrieve = _importing_when_called("urllib.request", "urlretrieve")
variations = _importing_when_called("whoosh.lang.morph_en", "variations")


@contextmanager
def _standing_in(name: str, **attributes: Any) -> Iterator[None]:
    """A module ``name`` holding ``attributes`` in ``sys.modules`` for the block's imports, unless the real
    one is loaded already; gone after the block."""
    if name in sys.modules:
        yield
        return
    stand_in = types.ModuleType(name, f"A stand-in for {name} while Whoosh is imported (searchkit).")
    stand_in.__dict__.update(attributes)
    sys.modules[name] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]


# Each where Whoosh first imports it: whoosh.compat (imported by every other module of Whoosh) imports
# urlretrieve, whoosh.reading the cached property, whoosh.query.terms the word variations.
with _standing_in("urllib.request", urlretrieve=urlretrieve):
    import whoosh.compat
with _standing_in("cached_property", cached_property=cached_property):
    import whoosh.reading
with _standing_in("whoosh.lang.morph_en", variations=variations):
    import whoosh.query  # noqa: F401
