"""Signing in and out: the session kept per tab across a reload, nothing of the previous user
left after logout, no resume of a room left, the sign-in form and its errors."""

import asyncio

import pytest
from aiohttp import web
from playwright.async_api import Page, Route

from chatd.interfaces.keys import WEBSOCKETS
from tests.browser.conftest import PageWatch
from tests.browser.helpers import (
    PASSWORD,
    auth_frames,
    create_room,
    opened_sockets,
    received_frames,
    send,
    sent_frames,
    shown_bodies,
    sign_up,
    until,
    until_connected,
    until_shown,
)
from tests.support import Api

pytestmark = pytest.mark.slow


async def drop_sockets(app: web.Application) -> None:
    """The server drops every WebSocket (as a restart or a network fault would)."""
    sockets = list(app[WEBSOCKETS])
    assert sockets
    await asyncio.gather(*(ws.close(code=1012, message=b"dropped by the test") for ws in sockets))


async def test_reload_keeps_the_session_and_the_room(page: Page) -> None:
    await sign_up(page, "alice")
    room_id = await create_room(page, "general")
    await send(page, "before the reload")

    await page.reload()

    await until_connected(page)
    await page.wait_for_selector(f"#my-rooms button[data-room-id='{room_id}'][aria-current=true]")
    await until_shown(page, 1)
    assert await page.text_content("#whoami") == "alice"
    assert await page.text_content("#room-title") == "general"
    assert await shown_bodies(page) == ["before the reload"]
    assert await page.is_visible("#composer")


async def test_logout_leaves_nothing_of_the_previous_user(page: Page) -> None:
    await sign_up(page, "alice")
    room_id = await create_room(page, "alices-room")
    await send(page, "alice was here")
    await page.fill("#body", "an unsent draft")

    await page.click("#logout")
    await page.wait_for_selector("#auth-view", state="visible")
    assert await page.is_hidden("#status")
    assert await page.evaluate("sessionStorage.length") == 0

    frames = sent_frames(page)
    await page.click("#auth-switch")
    await page.fill("#auth-form input[name=username]", "bob")
    await page.fill("#auth-form input[name=password]", PASSWORD)
    await page.press("#auth-form input[name=password]", "Enter")
    await until_connected(page)

    assert await page.text_content("#whoami") == "bob"
    assert await page.text_content("#room-title") == "Pick a room"
    assert await page.locator("#messages li").count() == 0
    assert await page.locator("#my-rooms li").count() == 0
    assert await page.is_visible(f"#other-rooms button[data-room-id='{room_id}']")
    assert await page.is_hidden("#composer")
    assert await page.text_content("#chat-error") == ""
    assert [frame.get("resume") for frame in auth_frames(frames)] == [{}]

    # bob opens alice's room: not joined, and alice's draft is gone.
    await page.click(f"#other-rooms button[data-room-id='{room_id}']")
    await page.click("#join")
    await until_shown(page, 2)  # "bob joined"
    assert await page.input_value("#body") == ""
    assert await page.text_content("#chat-error") == ""


async def test_a_room_left_is_not_resumed_after_a_reconnect(page: Page, api: Api) -> None:
    await sign_up(page, "alice")
    kept = await create_room(page, "kept")
    await send(page, "in kept")
    left = await create_room(page, "left")
    await send(page, "in left")
    await page.click("#leave")
    await page.wait_for_selector("#join", state="visible")
    frames = sent_frames(page)

    await drop_sockets(api.client.server.app)

    await page.wait_for_selector("#status[data-state=reconnecting]")
    await page.wait_for_selector("#status[data-state=connected]")
    [auth] = auth_frames(frames)
    assert str(left) not in auth["resume"]
    assert auth["resume"] == {str(kept): 1}
    assert await page.text_content("#chat-error") == ""


async def test_a_login_ended_elsewhere_takes_the_page_to_the_sign_in_form(
    page: Page, api: Api, page_watch: PageWatch
) -> None:
    page_watch.expect(r"status of 401 \(Unauthorized\)")  # the refresh of the ended login
    await page.clock.install()
    sockets, received = opened_sockets(page), received_frames(page)
    await sign_up(page, "alice")

    # Another login of alice logs out: every socket of alice closes (4401). This tab's login
    # still stands: it refreshes and reconnects by itself.
    other = await api.login("alice")
    status, _ = await api.call(
        "POST", "/api/auth/logout", json={"refresh_token": other["refresh_token"]}
    )
    assert status == 204
    await until(lambda: len(sockets) == 2, within=30, what="a new socket after the 4401")
    await until_connected(page)
    await until(
        lambda: [frame["type"] for frame in received].count("ready") == 2,
        within=30,
        what="the new socket is ready",
    )
    assert await page.text_content("#whoami") == "alice"

    # Now this tab's own login is logged out (as another tab holding a copy of its tokens
    # would): its refresh is refused, and the page says so on the sign-in form.
    tokens = await page.evaluate("JSON.parse(sessionStorage.getItem('chatd.tokens'))")
    status, _ = await api.call(
        "POST", "/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert status == 204
    await page.wait_for_selector("#auth-view", state="visible")
    await page.wait_for_selector(
        "#auth-error:text-is('Your session has ended. Please sign in again.')"
    )
    assert await page.is_hidden("#chat-view")
    assert await page.is_hidden("#status")
    assert await page.evaluate("sessionStorage.length") == 0
    assert len(sockets) == 2  # no reconnect with the ended login
    await page.clock.run_for(60_000)  # the message stays for whoever comes back to the tab
    assert await page.text_content("#auth-error") == "Your session has ended. Please sign in again."


async def test_enter_in_the_form_does_what_the_form_says(page: Page, page_watch: PageWatch) -> None:
    page_watch.expect(r"status of 401 \(Unauthorized\)")  # the wrong password, on purpose
    await page.goto("/")
    assert await page.is_hidden("#status")  # no connection badge before signing in
    assert await page.text_content("#auth-submit") == "Sign in"

    await page.fill("#auth-form input[name=username]", "alice")
    await page.fill("#auth-form input[name=password]", PASSWORD)
    await page.press("#auth-form input[name=password]", "Enter")
    await page.wait_for_selector("#auth-error:has-text('Wrong username or password.')")

    await page.click("#auth-switch")  # "Create an account": now Enter creates it
    assert await page.text_content("#auth-submit") == "Create account"
    await page.press("#auth-form input[name=password]", "Enter")
    await until_connected(page)
    assert await page.text_content("#whoami") == "alice"
    assert await page.text_content("#auth-error") == ""


async def test_errors_are_words_that_clear_themselves(page: Page, page_watch: PageWatch) -> None:
    page_watch.expect(r"net::ERR_FAILED")  # the login request the test cuts off
    await page.clock.install()
    await page.goto("/")

    async def cut_off(route: Route) -> None:
        await route.abort("failed")

    await page.route("**/api/auth/login", cut_off)
    await page.fill("#auth-form input[name=username]", "alice")
    await page.fill("#auth-form input[name=password]", PASSWORD)
    await page.click("#auth-submit")
    error = "Can't reach the server. Check your connection and try again."
    await page.wait_for_selector(f'#auth-error:text-is("{error}")')

    await page.clock.run_for(8_000)
    await page.wait_for_selector("#auth-error:empty", state="attached")
