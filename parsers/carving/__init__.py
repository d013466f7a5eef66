"""Deleted-record recovery from SQLite files read as bytes (``sqlite_cells``) and its mapping onto a parser's
tables (``carved_rows``). See docs/recovery.md."""
