"""The pure routing core: no asyncio, no I/O, no clock reads (``now`` is always passed in)."""
