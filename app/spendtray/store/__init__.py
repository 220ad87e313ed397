"""Storage: one SQLite file in WAL mode, one writer thread, readers on their own connections."""
