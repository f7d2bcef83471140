"""memory-batch-emulator: an in-memory emulator of the Zep Batch API (wire v2 and v4) and of
Maximem Synap's memories API, for tests that run the real, unmodified SDKs."""

__version__ = "0.1.0"

__all__ = ["Emulator", "__version__"]


def __getattr__(name: str) -> object:
    # ``from emulator import Emulator`` without making ``import emulator`` load aiohttp.
    if name == "Emulator":
        from .handle import Emulator

        return Emulator
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
