"""The page against a real `chatd serve` that restarts: it reconnects by itself and shows what
was posted meanwhile (on another process), once each, in order."""

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from chatd.config import Settings
from tests.browser.conftest import PageWatch
from tests.browser.helpers import open_room, shown_bodies, shown_seqs, sign_in, until_shown
from tests.support import Api, ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[ServerProcess]:
    server = await ServerProcess(settings).start()
    yield server
    server.stop()


@pytest.fixture
def server_url(server: ServerProcess) -> str:
    return server.url


async def test_the_page_catches_up_after_its_server_restarts(
    page: Page, server: ServerProcess, api: Api, page_watch: PageWatch
) -> None:
    # While its server drains and is down, the page retries and the browser logs each refusal:
    # the WebSocket handshakes and the room list's requests.
    page_watch.expect(r"^WebSocket connection to '.*/ws' failed")
    page_watch.expect(r"^Failed to load resource: net::ERR_CONNECTION_REFUSED$")
    page_watch.expect(r"^Failed to load resource: the server responded with a status of 503")
    # `api` is another chatd process on the same PostgreSQL and Redis: bob posts there.
    alice, bob = await api.user_token("alice"), await api.user_token("bob")
    room_id = await api.create_room(alice, "general")
    await api.join(bob, room_id)  # seq 1
    await sign_in(page, "alice")
    await open_room(page, room_id)
    await api.post(bob, room_id, "before the restart")  # seq 2, live across processes
    await until_shown(page, 2)

    assert server.stop() == 0, server.output()
    await page.wait_for_selector("#status[data-state=reconnecting]")
    for n in range(3):
        await api.post(bob, room_id, f"while it was down {n + 1}")  # seqs 3-5
    await server.start()

    await page.wait_for_selector("#status[data-state=connected]")
    await until_shown(page, 5)
    await api.post(bob, room_id, "after the restart")  # seq 6, live again
    await until_shown(page, 6)

    assert await shown_seqs(page) == [1, 2, 3, 4, 5, 6]
    assert await shown_bodies(page) == [
        "bob joined",
        "before the restart",
        "while it was down 1",
        "while it was down 2",
        "while it was down 3",
        "after the restart",
    ]
    assert await page.text_content("#chat-error") == ""
