"""The database layer: engine and pool, URL handling, the statement executor, column types,
naming and migrations."""
