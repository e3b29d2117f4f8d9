"""Engines: where analysed articles are stored and compiled queries run (Whoosh embedded, Xapian shards)."""
