"""Giving memory back once a reset has dropped everything.

Dropping a tenant frees little by itself: its batches, items, episodes and facts refer to each
other in cycles, which only the cyclic garbage collector frees, and a server that goes quiet
after a reset allocates too little to trigger a collection (the standalone server also raises
the first-generation threshold, emulator/__main__.py). Once freed, the memory stays with the
process unless the allocator returns it: CPython's small-object allocator gives back an arena
when it is wholly empty, and glibc's ``malloc`` keeps freed heap pages until ``malloc_trim``.
An arena is only given back when *every* block in it is free, so a few long-lived objects made
while the data was being made pin the arenas they landed in: the emulator's own caches of
values drawn from the data (formatted instants, relation names) are emptied first for that
reason. What the libraries keep (yarl's parsed URLs, lazily built schemas) still pins some.

So :func:`reclaim` empties those caches, runs a full collection and then, on glibc,
``malloc_trim(0)``. Measured by benchmarks/soak.py (the RSS after ``POST /_emulator/reset``
against the RSS at start, benchmarks/README.md).
"""

from __future__ import annotations

import gc
import sys
from typing import Callable

from .extract import relation_name
from .timestamps import format_rfc3339

_trim: Callable[[int], int] | None = None
_looked_up = False


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None elsewhere (other systems, musl); looked up on first use,
    so ``ctypes`` is not imported at start-up."""
    global _trim, _looked_up
    if not _looked_up:
        _looked_up = True
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _trim = ctypes.CDLL("libc.so.6").malloc_trim
            except (OSError, AttributeError):
                _trim = None
    return _trim


def _url_caches() -> list[Callable[[], None]]:
    """The ``cache_clear`` of yarl's parsed-URL caches (128 URLs each, with their parsed
    queries): aiohttp parses every request's path through them. ``yarl.cache_clear()`` empties
    only the host caches, so these are found on the module, and skipped if a release renames them."""
    try:
        from yarl import _url
    except ImportError:
        return []
    names = ("encode_url", "pre_encoded_url", "build_pre_encoded_url", "from_parts")
    return [clear for name in names if callable(clear := getattr(getattr(_url, name, None), "cache_clear", None))]


def reclaim() -> None:
    """Empty the caches of data-drawn values, free what is unreachable now and hand the
    allocator's free pages back to the system."""
    format_rfc3339.cache_clear()
    relation_name.cache_clear()
    for clear in _url_caches():
        clear()
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
