"""memory-batch-emulator: an in-memory emulator of the Zep Batch API (wire v2 and v4) and of
Maximem Synap's memories API, for tests that run the real, unmodified SDKs."""

__version__ = "0.1.0"
