"""The emulator's core: what the services *do*. No aiohttp and no wire field names here;
the adapters in ``emulator.wire`` translate each API version to and from these objects."""
