"""Snapshots: the state of one tenant, of one key, or of the whole world as versioned JSON data.

A snapshot is plain JSON data (dicts, lists, str, int, float, bool, None): datetimes are
RFC 3339 strings (``core/timestamps.py``), enums their values, records point at each other by
uuid. It is never pickled and nothing in it is evaluated, so a snapshot from an untrusted file
can at worst be refused. Loading validates everything (every field present, no other, each of
its type: ``schema.py``) and builds every record before it touches the world: a snapshot that
is refused (``InvalidInput("invalid_state", ...)``) has changed nothing.

Layout (``VERSION`` 1)::

    world:  {"format": FORMAT, "version": 1, "scope": "world",
             "clock": CLOCK,                        # the server clock
             "seed": IDS,                           # the world's id source (IdFactory.state())
             "processing": "realtime"|"instant"|"manual",   # the server's default mode
             "isolation": "strict"|"equals_customer",       # new Synap tenants' isolation
             "rate_limit": RATE | null,             # new tenants' rate-limit mode
             "tenants": [TENANT, ...]}
    tenant: {"format": FORMAT, "version": 1, "scope": "tenant", "tenants": [TENANT, ...]}
            # one tenant (dump_tenant) or both services of one key (dump_key)

    CLOCK:  {"frozen_at": time | null, "offset_seconds": float, "tick_seconds": float}
    IDS:    {"seed": int | str, "position": [version, [625 ints], gauss]}
    RATE:   {"per_second": float, "burst": int}
    TENANT: {"service": "zep"|"synap", "key", "clock": CLOCK | null (the key follows the
             server's clock), "ids": IDS, "processing", "rate_limit": RATE | null,
             "next_serial", "users": [USER], "graphs": [GRAPH], "threads": [THREAD],
             "batches": [BATCH], "queue": [item uuid, ...] (the work queue, flattened),
             "tasks": [TASK],
             "memories": MEMORIES | null (Zep)}
    USER:   {uuid, user_id, created_at, updated_at, graph (uuid), email, first_name, last_name,
             metadata, time_zone, disable_default_ontology, deleted}
    GRAPH:  {uuid, graph_id, created_at, updated_at, name, description, time_zone,
             user (uuid | null), deleted, episodes: [EPISODE]}      # episodes in queue order
    EPISODE:{uuid, content, source, reference_time, created_at, source_description,
             document_id, metadata, thread, role, role_name, message, processed,
             processed_at, dropped}
    THREAD: {uuid, thread_id, user, created_at, updated_at, deleted, messages: [MESSAGE],
             swept_messages: [MESSAGE]}
    MESSAGE:{uuid, content, role, created_at, reference_time, name, metadata, processed,
             dropped}
    BATCH:  {uuid, serial, listed, created_at, updated_at, metadata, ignore_roles,
             strict_ontology, status, processed_at, started_at, completed_at, invalid_items,
             task (uuid | null), items: [ITEM]}                        # items in sequence order
    ITEM:   {uuid, sequence_index, status, created_at, updated_at, started_at, error,
             graph, thread, episode, message (uuids | null), input: INPUT}
    INPUT:  {kind, target: {kind, space, value}, data, data_type, role, name, metadata,
             reference_time, document_id, source_description}
    TASK:   {uuid, type, created_at, batch (uuid | null)}
    MEMORIES: {isolation, receipts: [{uuid, document_id, queued_at, item (uuid | null),
             error}], telemetry: [json, ...]}

What is kept, and how:

- every record with all its fields, including deleted users, graphs and threads and dropped
  episodes and messages that something still points at (a queued item whose graph was deleted
  must still be skipped after a restore); "swept" messages are dropped ones a thread read has
  already removed from its list but an item or episode still names. The store's indexes are
  rebuilt from the live (not deleted) records, in the dumped order.
- listed batches in order (``tenant.batches``) with their serials and ``next_serial``, and
  unlisted ones (live adds), found through tasks, Synap receipts and the work queue. Batch
  counters (``counts``, ``finished``) are recomputed from the items' statuses.
- work in flight: an item ``processing`` at dump time is dumped ``queued`` (its start time
  cleared; its prepared, unprocessed episode and message as they are). ``queue`` lists the
  work queue flattened: each graph's FIFO, graphs in the order they take turns (items canceled
  while waiting included: they still take a turn); after loading the items are put back on
  the tenant's work queue in that order and the processor is kicked, so processing continues
  in the order it would have (in realtime mode only when a loop is running: without
  one they wait for the next kick). Pending items (a draft batch's) stay pending.
- each tenant's id stream (seed and position), so later ids continue the same sequence, and
  the key's clock: its own (``own()``) setting, or ``null`` when it follows the server's.
  A key's clock is shared by its Zep and Synap tenants, so restoring one of them sets it for
  both.
- the processing mode, the rate-limit mode (restored as a full bucket), the Synap desk
  (isolation, receipts in order — ``by_document`` is rebuilt from them — and telemetry).

What is not kept, and why:

- derived knowledge (``graph.knowledge``: entities, edges): it is re-derived on the next read
  from the processed episodes, in the same order, with the same reference and processing
  times, and its uuids come from ``ids.derived(f"graph/{uuid}")`` of the tenant's id stream,
  whose seed is kept — so edges and nodes read after a restore are the ones read before.
  (A graph first read before a ``World.reseed`` kept the old seed's uuids; those change.)
- the idempotency store: replays do not survive a restore (a retried request after a restore
  runs again).
- observers (``tenant.observe``) and realtime workers: they are code, not state; whoever wires
  observers must attach them to the restored tenants again.
- webhook endpoints and deliveries (``tenant.outbox``): an endpoint may be a callback (code),
  and the watch that fills an outbox is wired by the HTTP layer; a restored tenant has none
  until an endpoint is registered again.
- fault rules (``world.faults``) and the request journal: test set-up and a log, not data;
  ``load_world`` leaves both as they are. An item a fault holds in ``processing`` is dumped
  ``queued`` like any other in flight, so after a restore it runs without the hold.
- the order of the store's episode index across graphs (nothing reads it in order).

``load_tenant`` restores every tenant of a tenant snapshot (one tenant, or both services of a
key), replacing any existing tenant of that service and key; its *key* restores them under
another API key (the id streams are kept as they are, so knowledge uuids match the original's).
A key the world would refuse (empty, or not among configured keys) is refused. The tenants of
one key carry the same clock (it is the key's), and a snapshot in which they disagree is refused.

The package, one job a module: ``schema.py`` (the layout as pydantic models) and ``fields.py``
(its field types: timestamps, enums by value, JSON data); ``dump.py`` and ``reach.py`` (records
to data); ``load.py`` (validate, build, install), ``build.py`` (validated data to unattached
records, every reference checked) handing ``built.py``'s records to ``install.py`` (into the
world; cannot fail); ``refusal.py`` (what a refusal says: ``invalid snapshot: <path>:
<problem>``, the path in JSONPath spelling from ``$``, also in ``details["path"]``).
"""

from .dump import dump_key, dump_tenant, dump_world
from .load import load_tenant, load_world
from .schema import FORMAT, VERSION

__all__ = ["FORMAT", "VERSION", "dump_key", "dump_tenant", "dump_world", "load_tenant", "load_world"]
