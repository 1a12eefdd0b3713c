"""The page's token refresh: calls refused together spend the refresh token once (a second
spend would be taken as theft and end the login)."""

import asyncio
import dataclasses

import pytest
from playwright.async_api import Page, Request, Response, Route

from chatd.app import create_app
from chatd.config import Settings
from tests.browser.conftest import OpenPage, PageWatch
from tests.browser.helpers import sign_up
from tests.support import Api

pytestmark = pytest.mark.slow


@pytest.fixture
async def short_lived_api(settings: Settings, aiohttp_client) -> Api:
    """The app with access tokens that expire after 2 s, so that a test can outlive one."""
    return Api(await aiohttp_client(create_app(dataclasses.replace(settings, access_ttl=2))))


@pytest.fixture
def server_url(short_lived_api: Api) -> str:
    return short_lived_api.base_url


@pytest.fixture
async def page(open_page: OpenPage, page_watch: PageWatch) -> Page:
    # The browser logs every 401 it gets; here they are the scenario.
    page_watch.expect(r"status of 401 \(Unauthorized\)")
    page = await open_page()
    await page.clock.install()
    return page


async def signed_up_and_frozen(page: Page) -> None:
    """Sign up, then stop the page's timers: its socket no longer renews the access token
    before it expires (nor reconnects after the 4401), so the tests' REST calls meet it expired."""
    await sign_up(page, "alice")
    await page.clock.pause_at(await page.evaluate("Date.now() + 1"))
    await page.evaluate(SETTLED)


async def page_tokens(page: Page) -> dict | None:
    return await page.evaluate("JSON.parse(sessionStorage.getItem('chatd.tokens'))")


async def until_expired(api: Api, access_token: str) -> None:
    """Wait until the server refuses the access token as expired."""
    while True:
        status, body = await api.call("GET", "/api/me", token=access_token)
        if status == 401:
            assert body["error"]["code"] == "token_expired", body
            return
        await asyncio.sleep(0.1)


def count_refreshes(page: Page) -> list[Request]:
    """The page's refresh requests from now on (the list grows as they are made)."""
    refreshes: list[Request] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/auth/refresh"):
            refreshes.append(request)

    page.on("request", on_request)
    return refreshes


def count_refused(page: Page) -> list[Response]:
    """The page's `GET /api/me` answered 401 from now on."""
    refused: list[Response] = []

    def on_response(response: Response) -> None:
        if response.url.endswith("/api/me") and response.status == 401:
            refused.append(response)

    page.on("response", on_response)
    return refused


# Two calls at the same moment; each outcome is the username or why the call failed.
TWO_CALLS = """async () => {
    const { api } = await import("/static/js/api.js");  // the module instance the page uses
    const calls = await Promise.allSettled([api("GET", "/api/me"), api("GET", "/api/me")]);
    return calls.map((call) =>
        call.status === "fulfilled" ? call.value.username : `failed: ${call.reason.message}`);
}"""


# Wait for a refresh on its way, if any (a renewal that began before the clock was paused).
SETTLED = """async () => {
    const { refreshTokens } = await import("/static/js/api.js");
    await refreshTokens("no such token");
}"""


TOKENS_REPLACED = """(old) => {
    const tokens = JSON.parse(sessionStorage.getItem("chatd.tokens"));
    return !tokens || tokens.access_token !== old;
}"""


async def assert_still_signed_in(page: Page, api: Api, expired: dict) -> None:
    assert await page.is_visible("#chat-view")
    assert await page.is_hidden("#auth-view")
    tokens = await page_tokens(page)
    assert tokens is not None
    assert tokens["access_token"] != expired["access_token"]
    # The login is still alive on the server: its newest refresh token is good.
    status, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 200


async def test_calls_refused_together_share_one_refresh(page: Page, short_lived_api: Api) -> None:
    await signed_up_and_frozen(page)
    expired = await page_tokens(page)
    assert expired is not None
    await until_expired(short_lived_api, expired["access_token"])
    refreshes, refused = count_refreshes(page), count_refused(page)

    outcomes = await page.evaluate(TWO_CALLS)

    assert len(refused) == 2  # the scenario: both calls went out with the expired token
    assert len(refreshes) == 1
    assert outcomes == ["alice", "alice"]
    await assert_still_signed_in(page, short_lived_api, expired)


async def test_a_call_refused_after_the_refresh_retries_with_the_new_token(
    page: Page, short_lived_api: Api
) -> None:
    await signed_up_and_frozen(page)
    expired = await page_tokens(page)
    assert expired is not None
    await until_expired(short_lived_api, expired["access_token"])
    refreshes, refused = count_refreshes(page), count_refused(page)

    # Hold the first call on its way to the server until the other one's refresh has replaced
    # (or dropped) the tokens in the page: its 401 for the old access token comes after that.
    held: list[Route] = []

    async def hold_the_first(route: Route) -> None:
        if not held:
            held.append(route)
            await page.wait_for_function(TOKENS_REPLACED, arg=expired["access_token"])
        await route.continue_()

    await page.route("**/api/me", hold_the_first)

    outcomes = await page.evaluate(TWO_CALLS)

    assert len(held) == 1
    assert len(refused) == 2  # the scenario: both calls went out with the expired token
    assert len(refreshes) == 1
    assert outcomes == ["alice", "alice"]
    await assert_still_signed_in(page, short_lived_api, expired)
