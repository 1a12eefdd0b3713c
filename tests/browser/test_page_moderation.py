"""DMs, member menus, private rooms and invitations on the bundled page: a DM started from the
member list reaches the other person live and is listed apart from rooms; the owner promotes,
kicks and bans from a member's menu (a ban is confirmed first), the others' pages follow live,
and refusals are said in words; a private room is created, an invitation is made and taken."""

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage, PageWatch
from tests.browser.helpers import Relay, open_room, send, sign_in, until_connected, until_shown
from tests.support import Api

pytestmark = pytest.mark.slow

PAGE_WIDTH = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
ROOM_LIST_EVERY_MS = 10_000  # static/js/rooms.js: invitations are read with the room list


async def user_id(api: Api, token: str) -> int:
    status, me = await api.call("GET", "/api/me", token=token)
    assert status == 200, me
    return me["id"]


def entry(user: int) -> str:
    return f"#members li[data-user-id='{user}']"


async def open_menu(page: Page, user: int) -> None:
    """Unfold the member list (if folded) and the menu of `user`'s entry."""
    if await page.is_hidden("#members"):
        await page.click("#members-toggle")
    await page.click(f"{entry(user)} button.more")
    await page.wait_for_selector(f"{entry(user)} .member-menu")


async def menu_labels(page: Page, user: int) -> list[str]:
    return await page.eval_on_selector_all(
        f"{entry(user)} .member-menu button", "items => items.map(item => item.textContent)"
    )


async def test_a_dm_started_from_the_member_list_reaches_the_other_person_live(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    bob_id = await user_id(api, bob_token)
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)
    alice, bob = await open_page(), await open_page()
    await sign_in(alice, "alice")
    await sign_in(bob, "bob")
    assert await bob.is_visible("#no-dms")
    await open_room(alice, room_id)

    await open_menu(alice, bob_id)
    assert await menu_labels(alice, bob_id) == ["Message", "Make moderator", "Kick", "Ban…"]
    await alice.click(f"{entry(bob_id)} [data-action=message]")
    dm = "#dm-rooms button.room[aria-current=true]"
    await alice.wait_for_selector(dm)
    dm_id = int(await alice.get_attribute(dm, "data-room-id") or 0)
    assert dm_id != room_id
    assert await alice.text_content(f"{dm} .name") == "bob"  # the other person's name
    assert await alice.text_content("#room-title") == "bob"
    assert await alice.text_content("#room-topic") == "Direct message"
    assert await alice.is_hidden("#leave")  # a DM cannot be left
    assert await alice.is_hidden("#members")
    await send(alice, "psst, bob")

    # bob's page learns of the DM from his socket (no reload), listed apart from the rooms.
    bobs_dm = f"#dm-rooms button.room[data-room-id='{dm_id}']"
    await bob.wait_for_selector(bobs_dm, state="attached")
    assert await bob.text_content(f"{bobs_dm} .name") == "alice"
    assert await bob.locator(f"#my-rooms button[data-room-id='{dm_id}']").count() == 0
    assert await bob.locator(f"#other-rooms button[data-room-id='{dm_id}']").count() == 0
    assert await bob.is_hidden("#no-dms")
    await open_room(bob, dm_id)
    await until_shown(bob, 1)
    await send(alice, "<b>still</b> there?")  # live, and shown as text
    await until_shown(bob, 2)
    bodies = await bob.eval_on_selector_all(
        "#messages li.msg .body", "i => i.map(x => x.textContent)"
    )
    assert bodies == ["psst, bob", "<b>still</b> there?"]

    # Starting it again from the other side opens the same DM.
    await open_room(bob, room_id)
    await open_menu(bob, await user_id(api, alice_token))
    assert await menu_labels(bob, await user_id(api, alice_token)) == ["Message"]  # a member
    await bob.click("#members .member-menu [data-action=message]")
    await bob.wait_for_selector(f"{bobs_dm}[aria-current=true]")
    await until_shown(bob, 2)

    await bob.reload()  # the DM is one of bob's rooms for the server too: it opens again
    await until_connected(bob)
    await bob.wait_for_selector(f"{bobs_dm}[aria-current=true]", state="attached")
    await until_shown(bob, 2)
    assert await bob.text_content("#room-title") == "alice"


async def test_the_owner_promotes_from_the_menu_at_phone_width_and_both_pages_show_it(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    bob_id = await user_id(api, bob_token)
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)
    alice = await open_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    bob = await open_page()
    await sign_in(alice, "alice")
    await sign_in(bob, "bob")
    await alice.click("#rooms-toggle")
    await open_room(alice, room_id)
    await open_room(bob, room_id)
    await bob.wait_for_selector(f"{entry(bob_id)}", state="attached")
    assert await bob.locator(f"{entry(bob_id)} .role").count() == 0
    assert await bob.is_hidden("#invite")  # only the owner and moderators invite

    await open_menu(alice, bob_id)
    assert await alice.evaluate(PAGE_WIDTH) <= 375
    for selector in ("#members", f"{entry(bob_id)} [data-action=ban]"):
        box = await alice.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, selector
    await alice.click(f"{entry(bob_id)} [data-action=promote]")

    await alice.wait_for_selector(f"{entry(bob_id)} .role:text-is('moderator')")
    await bob.wait_for_selector(f"{entry(bob_id)} .role:text-is('moderator')", state="attached")
    await bob.wait_for_selector("#messages li.system:has-text('bob is now a moderator')")
    assert await bob.locator("#invite").get_attribute("hidden") is None  # a moderator invites
    await open_menu(alice, bob_id)
    assert await menu_labels(alice, bob_id) == ["Message", "Make member", "Kick", "Ban…"]
    await alice.click(f"{entry(bob_id)} [data-action=demote]")
    await bob.wait_for_selector(f"{entry(bob_id)} .role", state="detached")


async def test_a_refusal_is_said_in_words(
    open_page: OpenPage, api: Api, page_watch: PageWatch
) -> None:
    page_watch.expect(r"status of 404 \(Not Found\)")  # the kick the server refuses
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    bob_id = await user_id(api, bob_token)
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)
    alice, relay = await open_page(), Relay()
    await alice.route_web_socket("**/ws", relay.handle)
    await sign_in(alice, "alice")
    await open_room(alice, room_id)
    await open_menu(alice, bob_id)

    relay.withheld.update({"leave_room", "system_message"})  # alice's page misses bob leaving
    status, _ = await api.call("POST", f"/api/rooms/{room_id}/leave", token=bob_token)
    assert status == 204
    await alice.click(f"{entry(bob_id)} [data-action=kick]")
    await alice.wait_for_selector("#chat-error:text-is('That person is no longer in this room.')")
    await alice.wait_for_selector(entry(bob_id), state="detached")  # and the list is read again


async def test_a_ban_from_the_menu_takes_the_room_from_the_banned_person_live(
    open_page: OpenPage, api: Api, page_watch: PageWatch
) -> None:
    page_watch.expect(r"status of 403 \(Forbidden\)")  # bob's rejoin, refused
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    bob_id = await user_id(api, bob_token)
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)
    alice, bob = await open_page(), await open_page()
    await sign_in(alice, "alice")
    await sign_in(bob, "bob")
    await open_room(alice, room_id)
    await open_room(bob, room_id)

    await open_menu(alice, bob_id)
    await alice.click(f"{entry(bob_id)} [data-action=ban]")
    question = f"{entry(bob_id)} .member-menu .question"
    assert "Ban bob from this room?" in (await alice.text_content(question) or "")
    assert await bob.is_visible(f"#my-rooms button[data-room-id='{room_id}']")  # not yet
    await alice.click(f"{entry(bob_id)} [data-action=cancel]")  # a change of mind
    await alice.wait_for_selector(question, state="detached")
    await alice.click(f"{entry(bob_id)} [data-action=ban]")
    await alice.click(f"{entry(bob_id)} [data-action=confirm-ban]")

    await bob.wait_for_selector(f"#my-rooms button[data-room-id='{room_id}']", state="detached")
    await bob.wait_for_selector("#chat-notice:text-is('You were banned from general.')")
    await bob.wait_for_selector("#composer", state="hidden")
    await alice.wait_for_selector(entry(bob_id), state="detached")
    await alice.wait_for_selector("#messages li.system:has-text('bob was banned')")

    await bob.click("#join")  # the public room is still there to see, but refuses him
    await bob.wait_for_selector("#chat-error:text-is('You are banned from this room.')")
    assert await bob.is_hidden("#composer")
    status, _ = await api.call("GET", f"/api/rooms/{room_id}/messages", token=bob_token)
    assert status == 403


async def test_a_private_room_an_invitation_and_a_kick(
    open_page: OpenPage, api: Api, page_watch: PageWatch
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    bob_id = await user_id(api, bob_token)
    await api.user_token("carol")  # exists, but alice shares nothing with her
    status, _ = await api.call("POST", "/api/dms", token=alice_token, json={"user_id": bob_id})
    assert status == 201  # alice knows bob from their DM
    alice, bob = await open_page(), await open_page()
    await bob.clock.install()  # the test moves bob's clock to his next room-list read
    await sign_in(alice, "alice")
    await sign_in(bob, "bob")
    await bob.wait_for_load_state("networkidle")  # the lists of the sign-in are read
    assert await bob.is_hidden("#invitations-title")

    await alice.fill("#new-room-name", "secret")
    await alice.check("#new-room-private")
    await alice.click("#new-room button[type=submit]")
    current = "#my-rooms button.room[aria-current=true]"
    await alice.wait_for_selector(f"{current} .tag:text-is('private')")
    room_id = int(await alice.get_attribute(current, "data-room-id") or 0)
    assert not await alice.is_checked("#new-room-private")
    status, room = await api.call("GET", f"/api/rooms/{room_id}", token=bob_token)
    assert status == 404 and room["error"]["code"] == "room_not_found"  # private indeed

    await alice.click("#members-toggle")
    await alice.fill("#invite-name", "carol")
    await alice.press("#invite-name", "Enter")
    await alice.wait_for_selector("#chat-error:has-text('there is no user search')")
    suggestions = await alice.eval_on_selector_all(
        "#known-people option", "o => o.map(x => x.value)"
    )
    assert suggestions == ["bob"]
    await alice.fill("#invite-name", "Bob")  # any case
    await alice.press("#invite-name", "Enter")
    await alice.wait_for_selector("#chat-notice:has-text('bob is invited')")
    assert await alice.input_value("#invite-name") == ""

    # bob's page reads his invitations with the room list (every 10 s while visible).
    invitation = f"#invitations li[data-room-id='{room_id}']"
    assert await bob.locator(invitation).count() == 0
    async with bob.expect_response("**/api/me/invitations"):
        await bob.clock.run_for(ROOM_LIST_EVERY_MS)
    await bob.wait_for_selector(invitation)
    assert await bob.text_content(f"{invitation} .name") == "secret"
    assert await bob.text_content(f"{invitation} .from") == "from alice"
    await bob.click(f"{invitation} button:text-is('Join')")
    await bob.wait_for_selector(f"#my-rooms button[data-room-id='{room_id}'][aria-current=true]")
    await bob.wait_for_selector(invitation, state="detached")
    assert await bob.is_hidden("#invitations-title")
    await send(bob, "thanks!")
    await alice.wait_for_selector("#messages li.msg:has-text('thanks!')")

    await open_menu(alice, bob_id)
    await alice.click(f"{entry(bob_id)} [data-action=kick]")
    await bob.wait_for_selector("#chat-notice:text-is('You were removed from secret.')")
    # A private room is out of his sight: gone from every list, the screen back to none.
    await bob.wait_for_selector(f"button.room[data-room-id='{room_id}']", state="detached")
    assert await bob.text_content("#room-title") == "Pick a room"
    await alice.wait_for_selector(entry(bob_id), state="detached")
