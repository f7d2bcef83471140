"""The numeric limits of the Zep Batch API, in one place.

Sources: Zep's batch guide (the seed 000_*.txt: "batch.add accepts up to 500 items"), the
adding-batch-data docs (50,000 items per batch), zep-ingest 0.4.0's validation (episode data
10,000 characters, message content 4,096, metadata 10 keys) and decisions.md (page sizes).
"""

MAX_ITEMS_PER_ADD = 500
MAX_ITEMS_PER_BATCH = 50_000
MAX_EPISODE_DATA_CHARS = 10_000
MAX_MESSAGE_CONTENT_CHARS = 4_096
MAX_METADATA_KEYS = 10
#: thread.add_messages takes at most 30 messages per call (wire contract §3).
MAX_MESSAGES_PER_ADD = 30
MIN_PAGE_SIZE = 1
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_BODY_BYTES = 32 * 1024 * 1024
#: How deep a request's JSON may nest. orjson reads 1,024 levels but writes only 254, so a
#: deeper value would be stored and then fail every answer that shows it; this leaves the
#: answers that embed a stored value (a snapshot, a listed record) 126 levels to spare.
MAX_JSON_DEPTH = 128
#: Seconds the server waits for the whole body of a mutating request before answering 408 and
#: closing the connection (settings ``--body-timeout``; RFC 9110 §15.5.9). Generous: 32 MiB
#: over loopback takes well under a second.
DEFAULT_BODY_TIMEOUT = 30.0
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
