"""The embedded Whoosh engine: schema, segment writer, storage, generations, executor, columns."""

# Whoosh first imported here, before any module of the engine imports it: without what a query never uses.
from searchkit.engines.whoosh.codec import imports as _whoosh_imported  # noqa: F401
