"""Shim so that older pip versions can do an editable install; all metadata lives in setup.cfg.

The one C extension (the SQLite carver's per-page loop, parsers/carving/_cells.c) is optional: without a compiler
or the Python headers the install goes on and the carver runs its pure-Python reference implementation."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("parsers.carving._cells", ["parsers/carving/_cells.c"], optional=True,
                             extra_compile_args=["-O2"])])
