"""Shim so that older pip versions can do an editable install; all metadata lives in setup.cfg.

The two C extensions are optional: without a compiler or the Python headers the install goes on, the SQLite carver
(its per-page loop, parsers/carving/_cells.c) runs its pure-Python reference implementation and the inventory
(multi-buffer md5 of a batch of files, forensics/_md5mb.c) hashes md5 with hashlib file by file."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("parsers.carving._cells", ["parsers/carving/_cells.c"], optional=True,
                             extra_compile_args=["-O2"]),
                   Extension("forensics._md5mb", ["forensics/_md5mb.c"], optional=True, extra_compile_args=["-O2"])])
