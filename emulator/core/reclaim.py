"""Giving memory back once a reset has dropped everything.

Dropping a tenant frees little by itself: its batches, items, episodes and facts refer to each
other in cycles, which only the cyclic garbage collector frees, and a server that goes quiet
after a reset allocates too little to trigger a collection (the standalone server also raises
the first-generation threshold, emulator/__main__.py). Once freed, the memory stays with the
process unless the allocator returns it: glibc's ``malloc`` keeps freed heap pages until
``malloc_trim``, and CPython's small-object allocator gives back a 1 MiB arena only when
*every* block in it is free. While the data is resident nearly every arena holds some of it, so
any object made then that outlives the reset pins the arena it landed in. Measured with
tracemalloc and ``sys._debugmallocstats`` on benchmarks/soak.py, those objects are:

- values the emulator caches by what the data held (formatted instants, relation names), and
  the parsed URLs yarl caches for aiohttp: emptied;
- the names CPython's attribute-lookup cache keeps alive: in 3.11 it is indexed by the name
  string's *address* and holds a reference to it, so every name built afresh at run time (the
  datetime module looks up ``"utcoffset"`` from a new string on each aware instant it hashes)
  stays in one of its 4,096 slots until another lookup lands there: ``sys._clear_type_cache``;
- what the reset itself makes (the new id streams, the clock's state): made only after the
  collection, by ``World.reset``, so it lands among what is left rather than among the dropped;
- the reset request's own objects (its headers, its answer, the frames that ran it), made
  while the data was resident: garbage once the answer is written, but freed only by the next
  collection and kept meanwhile on CPython's freelists, so a second pass, :data:`SETTLE_SECONDS`
  later, collects again and trims.

What is left after that (10-15 MiB after 200,000 items; benchmarks/README.md) is arenas kept by
a few blocks each, found by reading the allocator's arena table after a reset: free-lists that
no collection empties (asyncio's 255 future iterators, multidict's pools), CPython's float and
tuple free-lists as the loop refills them, the one empty arena CPython keeps, and the reset
request's path and id in its journal entry. A reset made in-process, with no request, still
leaves 7-8 such arenas. A copy made while its original lives does not move out (CPython allocates
from the partly used pools first, which are these arenas' own); replacements made before the
load, or copies made once the originals are freed, do, but the arenas that asyncio's timer heap
and aiohttp's request counter then hold keep the figure at 1.13-1.15, so that is not done here.
A bare aiohttp app that holds as much and resets through this same function comes back to
1.035-1.076 (benchmarks/store_floor_app.py). Scanned the same way, its multidict pool keeps one
arena, where the emulator's multidict and asyncio pools keep four, likely because the
emulator's records fill pools of the same size classes.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Callable

from .extract import relation_name
from .timestamps import format_rfc3339

SETTLE_SECONDS = 0.25
"""How long after a reset the second pass runs: time for the reset's answer to be written and
its request dropped."""

_trim: Callable[[int], int] | None = None
_looked_up = False
_settling: asyncio.TimerHandle | None = None


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


def _collect_and_trim() -> None:
    """Free every unreachable cycle (a full collection also empties CPython's freelists) and
    hand glibc's free heap pages back to the system."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def reclaim() -> None:
    """Empty the caches that hold values drawn from the data, free what is unreachable now and
    trim; then, where a loop runs in this thread (the server's), do the last two once more
    :data:`SETTLE_SECONDS` later. Call it after dropping the data and before making anything
    that is to outlive the reset."""
    global _settling
    format_rfc3339.cache_clear()
    relation_name.cache_clear()
    for clear in _url_caches():
        clear()
    sys._clear_type_cache()
    _collect_and_trim()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if _settling is not None:  # a reset while one is pending: one second pass, after the last
        _settling.cancel()
    _settling = loop.call_later(SETTLE_SECONDS, _collect_and_trim)
