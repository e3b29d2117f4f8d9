"""The index as Xapian shards: searching beyond one machine.

The embedded Whoosh index (``searchkit.build.index``, ``searchkit.search.searcher``) is the default. With
``--shards HOST:PORT,…`` the same articles, analysed by the same code, are written to Xapian
databases served by ``xapian-tcpsrv`` on each host, and searched as one database, Xapian
merging the statistics of every shard:

- :mod:`searchkit.engines.xapian.connection`: the addresses, opening the shards, Xapian's errors as
  searchkit's (one line naming the shard);
- :mod:`searchkit.engines.xapian.terms`: an analysed article as a Xapian document (prefixes, values);
- :mod:`searchkit.engines.xapian.writer`: writing the shards in a build (``searchkit.build.shards``);
- :mod:`searchkit.engines.xapian.statistics`: each shard's accent statistics, and their sum on a client;
- :mod:`searchkit.engines.xapian.query`: the compiled query (``searchkit.engines.compiled``) in Xapian's operators;
- :mod:`searchkit.engines.xapian.backend`: the shards as a ``searchkit.engines.backend.Backend``, which the one
  ``searchkit.search.searcher.Searcher`` searches as it does the embedded index.

The Xapian bindings are an optional dependency (``pip install 'searchkit[shards]'``); nothing
imports them until shards are asked for.
"""
