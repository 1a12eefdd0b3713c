"""The benchmark's reference servers, each run as `python -m chatd.bench.servers.NAME --port P`."""

import asyncio


def new_loop(use_uvloop: bool) -> asyncio.AbstractEventLoop:
    """Plain asyncio, or uvloop when the run asks for it (then for every contender alike)."""
    if use_uvloop:
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
