"""The room header's member list: an online dot per member kept live by presence frames, the
owner marked, and at phone width a list that opens over the messages without sideways scroll."""

import asyncio
import time

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage
from tests.browser.helpers import Relay, open_room, sign_in, until
from tests.support import Api

pytestmark = pytest.mark.slow

PAGE_WIDTH = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
# Presence says offline 2 s (the grace) after the last connection closes: a generous bound.
OFFLINE_WITHIN_MS = 30_000


async def user_id(api: Api, token: str) -> int:
    status, me = await api.call("GET", "/api/me", token=token)
    assert status == 200, me
    return me["id"]


def member(user: int, online: bool) -> str:
    return f"#members li[data-user-id='{user}'][data-online={'true' if online else 'false'}]"


async def shown_members(page: Page) -> list[list]:
    return await page.eval_on_selector_all(
        "#members li",
        "items => items.map(item => [item.querySelector('.name').textContent,"
        " item.dataset.online, item.querySelector('.dot').getAttribute('aria-label'),"
        " item.querySelector('.role')?.textContent ?? null])",
    )


async def test_dots_follow_presence_as_the_other_page_connects_and_closes(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    bob_id = await user_id(api, bob_token)
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)
    alice = await open_page()
    await sign_in(alice, "alice")
    await open_room(alice, room_id)
    await alice.wait_for_selector("#members-toggle .online-count:text-is('1 online')")
    assert await alice.text_content("#members-toggle .members-count") == "2 members"
    assert await alice.get_attribute("#members-toggle", "aria-label") == "2 members, 1 online"

    await alice.click("#members-toggle")
    await alice.wait_for_selector("#members", state="visible")
    assert await alice.get_attribute("#members-toggle", "aria-expanded") == "true"
    assert await shown_members(alice) == [
        ["alice", "true", "online", "owner"],
        ["bob", "false", "offline", None],
    ]

    bob = await open_page()
    await sign_in(bob, "bob")  # bob's first connection: alice's page hears it
    await alice.wait_for_selector(member(bob_id, online=True))
    assert await alice.text_content("#members-toggle .online-count") == "2 online"

    await bob.close()  # his last connection: offline once the grace has passed
    await alice.wait_for_selector(member(bob_id, online=False), timeout=OFFLINE_WITHIN_MS)
    assert await alice.text_content("#members-toggle .online-count") == "1 online"
    assert await alice.is_visible("#members")  # the list stayed open throughout

    await alice.keyboard.press("Escape")
    await alice.wait_for_selector("#members", state="hidden")
    assert await alice.get_attribute("#members-toggle", "aria-expanded") == "false"


async def until_offline(api: Api, token: str, room_id: int, user: int) -> None:
    """Wait until the members route says `user` is offline."""
    deadline = time.monotonic() + OFFLINE_WITHIN_MS / 1000
    while True:
        status, body = await api.call("GET", f"/api/rooms/{room_id}/members", token=token)
        assert status == 200, body
        if not any(m["user"]["id"] == user and m["online"] for m in body["members"]):
            return
        assert time.monotonic() < deadline, f"user {user} is still online"
        await asyncio.sleep(0.2)


async def test_presence_missed_while_disconnected_is_read_again_on_reconnect(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    bob_id = await user_id(api, bob_token)
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)
    alice, bob, relay = await open_page(), await open_page(), Relay()
    await alice.route_web_socket("**/ws", relay.handle)
    await sign_in(alice, "alice")
    await open_room(alice, room_id)
    await sign_in(bob, "bob")
    await alice.wait_for_selector(member(bob_id, online=True), state="attached")

    relay.withheld.add("presence")  # from now on alice's page hears no presence (a bad link)
    await bob.close()
    await until_offline(api, alice_token, room_id, bob_id)
    assert await alice.locator(member(bob_id, online=True)).count() == 1  # not heard

    relay.withheld.clear()
    await relay.routes[-1].close(code=1012, reason="dropped")  # the page reconnects
    await until(lambda: len(relay.routes) == 2, within=30, what="alice's page reconnects")
    await alice.wait_for_selector(member(bob_id, online=False), state="attached")
    assert await alice.text_content("#members-toggle .online-count") == "1 online"


async def test_at_phone_width_the_list_opens_over_the_room_without_sideways_scroll(
    open_page: OpenPage, api: Api
) -> None:
    long_names = ["a" * 32, "b" * 32]  # the longest usernames, no space to break them
    tokens = [await api.user_token(name) for name in long_names]
    room_id = await api.create_room(tokens[0], "x" * 100)
    await api.join(tokens[1], room_id)
    page = await open_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    await sign_in(page, long_names[0])
    await page.click("#rooms-toggle")
    await open_room(page, room_id)
    await page.wait_for_selector("#members-toggle .online-count:text-is('1 online')")
    assert await page.is_hidden("#members-toggle .members-count")  # "● 1 online" is enough here

    await page.click("#members-toggle")
    await page.wait_for_selector("#members", state="visible")

    assert await page.evaluate(PAGE_WIDTH) <= 375
    for selector in ("#members", "#members li:nth-child(1) .role", "#members-toggle", "#leave"):
        box = await page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, selector
    assert [row[0] for row in await shown_members(page)] == long_names  # whole, only ellipsed

    await page.click("#room-title")  # a tap elsewhere folds it away
    await page.wait_for_selector("#members", state="hidden")
