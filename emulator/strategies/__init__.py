"""Hypothesis strategies for fuzzing your own ingestion code against the wire shapes of Zep's
Batch API (v2: zep-cloud 3.x, v4: zep-cloud 4.x) and Maximem Synap's memories API.

Every strategy produces plain JSON-shaped dicts, the wire shape the SDK sends, so you can pass
them to the SDK's models or send them as raw JSON::

    from hypothesis import given
    from zep_cloud.types import BatchItemInput
    from emulator.strategies import zep_v4

    @given(zep_v4.items(graph_uuids=[graph.uuid_], user_uuids=[user.uuid_], max_size=30))
    def test_backfill_accepts_anything_valid(items):
        batch = client.batch.create()
        client.batch.add_items(batch.uuid_, items=[BatchItemInput(**item) for item in items])
        ...

    @given(zep_v4.flawed_items(graph_uuids=[graph.uuid_], defects=[zep_v4.NAIVE_TIMESTAMP]))
    def test_backfill_reports_bad_timestamps(flawed):
        item, defect = flawed          # a Flawed(item, defect) pair
        expected = zep_v4.STAGE[defect]   # "add", "rejected_item", "process" or "item"
        ...

Modules:

- :mod:`.zep_v4`: ``graph_episode``, ``thread_message``, ``items``, ``flawed_items`` with the v4
  names (``graph_uuid``, ``user_uuid``, ``thread_uuid``, ``reference_time``) for
  ``BatchItemInput(**item)``;
- :mod:`.zep_v2`: the same with the v2 names (``graph_id``, ``user_id``, ``thread_id``,
  ``created_at``, role ``norole``) for ``BatchAddItem(**item)``;
- :mod:`.synap`: ``document``, ``documents``, ``batches``, ``flawed_documents`` for
  ``CreateMemoryRequest(**doc)``.

The rules come from the wire references (zep-wire-contract.md, synap-wire-contract.md and
decisions.md), not from the emulator: this package imports only the standard library and
``hypothesis`` (an extra dependency of the emulator's ``test`` extra), never ``emulator.core``
or ``emulator.wire``.
"""

from . import synap, zep_v2, zep_v4
from ._common import Flawed

__all__ = ["Flawed", "synap", "zep_v2", "zep_v4"]
