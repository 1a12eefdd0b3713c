"""Cross-site WebSocket hijacking: a handshake from a page of another origin is refused (403)
before the upgrade, however the origin is dressed up."""

import aiohttp
import pytest
from aiohttp import WSServerHandshakeError

from chatd.app import create_app
from tests.support import Api


def foreign_origins(own: str) -> list[str]:
    """Origins a browser could send from a page that is not chatd's own. `own` is
    http://127.0.0.1:<port>."""
    host_port = own.removeprefix("http://")
    host, port = host_port.split(":")
    return [
        "https://evil.example",
        "http://evil.example",
        "null",  # sandboxed iframes, file: pages, some redirects
        "",
        f"http://{host_port}.evil.example",
        f"http://evil.example.{host_port}",
        f"http://evil.example#{host_port}",
        f"http://evil.example@{host_port}",
        f"http://{host_port}@evil.example",
        f"http://{host}:{int(port) + 1}",  # the same host, another port: another origin
        f"http://localhost:{port}",  # the same machine by another name: another origin
        f"ws://{host_port}",
        f"file://{host_port}",
        f"chrome-extension://{host_port}",
        f"javascript://{host_port}",
        f"http://{host}",
        f"http://{host_port} http://evil.example",
    ]


async def handshake_status(base_url: str, origin: str) -> int:
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(f"{base_url}/ws", headers={"Origin": origin})
        except WSServerHandshakeError as refused:
            return refused.status
        await ws.close()
        return 101


async def test_foreign_origins_are_refused(api, figure):
    own = api.base_url
    origins = foreign_origins(own)
    accepted = [o for o in origins if await handshake_status(own, o) != 403]
    figure(f"accepted {len(accepted)} of {len(origins)} foreign origins")
    assert accepted == []
    # The control: the page's own origin, and no Origin at all (a script), are let in.
    assert await handshake_status(own, own) == 101
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{own}/ws")
        await ws.close()


@pytest.mark.parametrize("listed", ["https://chat.example"])
async def test_with_allowed_origins_set_only_those_are_let_in(
    settings, aiohttp_client, listed, figure
):
    api = Api(await aiohttp_client(create_app(settings.with_overrides(allowed_origins=(listed,)))))
    own = api.base_url
    refused_ones = [*foreign_origins(own), own, "https://chat.example.evil", "http://chat.example"]
    accepted = [o for o in refused_ones if await handshake_status(own, o) != 403]
    figure(f"accepted {len(accepted)} of {len(refused_ones)} origins not listed")
    assert accepted == []
    assert await handshake_status(own, listed) == 101
