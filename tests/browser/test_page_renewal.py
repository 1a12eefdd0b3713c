"""The access token of the open socket is renewed on that socket (an `auth` frame), so a page
outlives many access tokens on one connection and keeps receiving live messages."""

import dataclasses

import pytest
from playwright.async_api import Page, Request

from chatd.app import create_app
from chatd.config import Settings
from tests.browser.conftest import OpenPage
from tests.browser.helpers import (
    create_room,
    opened_sockets,
    received_frames,
    sent_frames,
    sign_up,
    until,
    until_shown,
)
from tests.support import Api

pytestmark = pytest.mark.slow

ACCESS_TTL = 6  # seconds; the page renews half way through the (whole-second) life: every 2.5 s
RENEWALS = 6  # about 15 s: two and a half lifetimes of an access token


@pytest.fixture
async def short_lived_api(settings: Settings, aiohttp_client) -> Api:
    app = create_app(dataclasses.replace(settings, access_ttl=ACCESS_TTL))
    return Api(await aiohttp_client(app))


@pytest.fixture
def server_url(short_lived_api: Api) -> str:
    return short_lived_api.base_url


def count_refreshes(page: Page) -> list[Request]:
    refreshes: list[Request] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/auth/refresh"):
            refreshes.append(request)

    page.on("request", on_request)
    return refreshes


async def test_the_socket_renews_its_token_and_stays_open_past_several_lifetimes(
    open_page: OpenPage, short_lived_api: Api
) -> None:
    api = short_lived_api
    page = await open_page()
    sockets, sent, received = opened_sockets(page), sent_frames(page), received_frames(page)
    refreshes = count_refreshes(page)
    await sign_up(page, "alice")
    room_id = await create_room(page, "general")
    [opening] = [frame for frame in sent if frame["type"] == "auth" and "resume" in frame]

    def renewals() -> list[dict]:  # auth frames on the open socket: no `resume`
        return [frame for frame in sent if frame["type"] == "auth" and "resume" not in frame]

    def acked() -> bool:
        refs = {frame["ref"] for frame in received if frame["type"] == "ack"}
        return len(renewals()) >= RENEWALS and all(f["ref"] in refs for f in renewals())

    await until(acked, within=RENEWALS * ACCESS_TTL * 3, what=f"{RENEWALS} renewals acked")

    # The token the socket opened with has long expired, and the socket is still the first one.
    status, body = await api.call("GET", "/api/me", token=opening["token"])
    assert (status, body["error"]["code"]) == (401, "token_expired")
    bob = await api.login((await api.register("bob"))["username"])
    await api.join(bob["access_token"], room_id)  # seq 1
    await api.post(bob["access_token"], room_id, "still live?")  # seq 2
    await until_shown(page, 2)

    assert len(sockets) == 1
    assert [frame["type"] for frame in received].count("ready") == 1
    assert not [frame for frame in received if frame["type"] == "error"]
    tokens = [frame["token"] for frame in renewals()]
    assert len(set(tokens)) == len(tokens) and opening["token"] not in tokens
    # One refresh per renewal (the next one may be on its way already).
    assert len(tokens) <= len(refreshes) <= len(tokens) + 1
    assert await page.get_attribute("#status", "data-state") == "connected"
    assert await page.text_content("#chat-error") == ""
