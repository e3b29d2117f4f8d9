"""Whoosh's private names, touched by this package alone.

searchkit reaches into Whoosh (whoosh-reloaded, pinned to 2.7.5 for it in ``pyproject.toml``) in two
places: the segment writer (:mod:`.writing`) and the reader's packed columns, posting blocks and field
lengths (:mod:`.reading`). They are two modules so that a query never imports the writer; nothing
else of searchkit reaches into a Whoosh object. ``tests/test_segments.py``, ``tests/test_execute.py``
and ``tests/test_codec.py`` compare each against Whoosh's own behaviour, and ``tests/test_codec.py``
checks that no other module touches a private name.
"""
