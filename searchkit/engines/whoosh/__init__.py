"""The embedded Whoosh engine: schema, segment writer, storage, generations, executor, columns."""
