"""Edits, deletes and unread counts on the bundled page: an edit and a delete made in place
reach the other person's page live and are still there after a reload; unread counts come from
the server (so they survive a reload), grow live, clear when the room is read, and a room read
in one tab clears its badge in the user's other tab."""

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage
from tests.browser.helpers import (
    open_room,
    send,
    sent_frames,
    shown_bodies,
    sign_in,
    until,
    until_connected,
    until_shown,
)
from tests.support import Api

pytestmark = pytest.mark.slow


def message(seq: int) -> str:
    return f"#messages li[data-seq='{seq}']"


async def tools(page: Page, seq: int) -> list[str]:
    """The actions offered on a message (after a tap on it)."""
    return await page.eval_on_selector_all(
        f"{message(seq)} .msg-tools button", "items => items.map(item => item.dataset.action)"
    )


async def tap(page: Page, seq: int) -> None:
    await page.click(f"{message(seq)} .body")
    await page.wait_for_selector(f"{message(seq)}.selected")


async def test_edits_and_deletes_reach_the_other_page_live_and_survive_a_reload(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)  # seq 1
    alice, bob = await open_page(), await open_page()
    for page, name in ((alice, "alice"), (bob, "bob")):
        await sign_in(page, name)
        await open_room(page, room_id)
    await send(alice, "helo wrld")  # seq 2
    await send(alice, "to be removed")  # seq 3
    await send(bob, "bob's words")  # seq 4
    await until_shown(alice, 4)

    assert await tools(alice, 2) == ["edit", "delete"]
    assert await tools(alice, 4) == ["delete"]  # the owner deletes anyone's, edits only hers
    assert await tools(bob, 2) == []  # a member: nothing on others' messages
    assert await tools(bob, 4) == ["edit", "delete"]
    await tap(alice, 2)
    await alice.click(f"{message(2)} [data-action=edit]")
    box = f"{message(2)} .edit-box"
    assert await alice.evaluate("document.activeElement.classList.contains('edit-box')")
    assert await alice.input_value(box) == "helo wrld"
    await alice.fill(box, "this is not kept")
    await alice.press(box, "Escape")  # cancelled: the message is as it was
    await alice.wait_for_selector(box, state="detached")
    assert await alice.text_content(f"{message(2)} .body") == "helo wrld"

    await tap(alice, 2)
    await alice.click(f"{message(2)} [data-action=edit]")
    await alice.fill(box, "hello <i>world</i>")
    await alice.press(box, "Enter")
    await alice.wait_for_selector(f"{message(2)} .edited")
    assert await alice.text_content(f"{message(2)} .body") == "hello <i>world</i> (edited)"
    await bob.wait_for_selector(f"{message(2)} .edited")  # live
    assert await bob.text_content(f"{message(2)} .body") == "hello <i>world</i> (edited)"

    await tap(alice, 3)
    await alice.click(f"{message(3)} [data-action=delete]")
    assert await alice.text_content(f"{message(3)} .msg-confirm span") == "Delete this message?"
    await alice.click(f"{message(3)} [data-action=confirm-delete]")
    await alice.wait_for_selector(f"{message(3)}.deleted")
    await tap(alice, 4)
    await alice.click(f"{message(4)} [data-action=delete]")
    await alice.click(f"{message(4)} [data-action=confirm-delete]")
    await bob.wait_for_selector(f"{message(3)}.deleted")
    await bob.wait_for_selector(f"{message(4)}.deleted")
    shown = ["bob joined", "hello <i>world</i> (edited)"] + ["This message was deleted."] * 2
    assert await shown_bodies(bob) == shown
    assert await tools(bob, 4) == []  # a tombstone has nothing left to change

    await bob.reload()
    await until_connected(bob)
    await until_shown(bob, 4)
    assert await shown_bodies(bob) == shown  # as history has it now
    assert await shown_bodies(alice) == shown
    status, page = await api.call("GET", f"/api/rooms/{room_id}/messages", token=bob_token)
    assert status == 200 and [m["deleted"] for m in page["messages"]] == [False, False, True, True]


async def test_unread_counts_survive_a_reload_and_clear_when_read(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    busy = await api.create_room(alice_token, "busy")
    quiet = await api.create_room(bob_token, "quiet")
    await api.join(bob_token, busy)
    bob = await open_page()
    await sign_in(bob, "bob")
    await open_room(bob, quiet)
    badge = f"button[data-room-id='{busy}'] .unread"

    for text in ("one", "two", "three"):
        await api.post(alice_token, busy, text)
    await bob.wait_for_selector(f"{badge}:text-is('3')")
    frames = sent_frames(bob)  # of the sockets opened from now on
    await bob.reload()
    await until_connected(bob)
    await bob.wait_for_selector(f"{badge}:text-is('3')")  # counted by the server
    assert await bob.get_attribute(badge, "aria-label") == "3 unread messages"

    status, me = await api.call("GET", "/api/me", token=bob_token)
    assert status == 200
    status, dm = await api.call("POST", "/api/dms", token=alice_token, json={"user_id": me["id"]})
    assert status == 201
    await bob.wait_for_selector(f"#dm-rooms button[data-room-id='{dm['id']}']", state="attached")
    await api.post(alice_token, dm["id"], "psst")
    await bob.wait_for_selector(f"#dm-rooms button[data-room-id='{dm['id']}'] .unread:text-is('1')")

    await open_room(bob, busy)
    await until_shown(bob, 4)
    assert await bob.locator(badge).count() == 0
    await until(
        lambda: any(f["type"] == "read" and f["room_id"] == busy for f in frames),
        within=15,
        what="bob's page sends his read marker",
    )
    read = [f for f in frames if f["type"] == "read"][-1]
    assert read["seq"] == 4
    await api.post(alice_token, busy, "four")  # read as it arrives: the room is open
    await until_shown(bob, 5)
    await until(
        lambda: any(f["type"] == "read" and f["seq"] == 5 for f in frames),
        within=15,
        what="the marker follows the open room",
    )

    await open_room(bob, quiet)
    await bob.reload()
    await until_connected(bob)
    await bob.wait_for_selector(f"#my-rooms button[data-room-id='{busy}']")
    assert await bob.locator(badge).count() == 0  # read stays read
    dm_badge = f"#dm-rooms button[data-room-id='{dm['id']}'] .unread"
    assert await bob.text_content(dm_badge) == "1"  # the DM still waits
    status, mine = await api.call("GET", "/api/me/rooms", token=bob_token)
    assert status == 200
    assert {r["id"]: r["unread"] for r in mine["rooms"]} == {busy: 0, quiet: 0, dm["id"]: 1}


async def test_a_room_read_in_one_tab_clears_its_badge_in_the_other(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    busy = await api.create_room(alice_token, "busy")
    quiet = await api.create_room(bob_token, "quiet")
    await api.join(bob_token, busy)
    first, second = await open_page(), await open_page()  # two tabs (two logins) of bob
    for tab in (first, second):
        await sign_in(tab, "bob")
        await open_room(tab, quiet)
    badge = f"button[data-room-id='{busy}'] .unread"
    await api.post(alice_token, busy, "one")
    await api.post(alice_token, busy, "two")
    for tab in (first, second):
        await tab.wait_for_selector(f"{badge}:text-is('2')")

    await open_room(first, busy)
    await until_shown(first, 3)
    await second.wait_for_selector(badge, state="detached")  # the read frame reached it
    await open_room(first, quiet)  # (while busy is open in a tab, what comes is read there)
    await api.post(alice_token, busy, "three")  # both tabs count afresh from there
    for tab in (first, second):
        await tab.wait_for_selector(f"{badge}:text-is('1')")


async def test_the_keyboard_reaches_edit_and_the_editor_keeps_its_text_through_a_redraw(
    open_page: OpenPage, api: Api
) -> None:
    alice_token, bob_token = await api.user_token("alice"), await api.user_token("bob")
    room_id = await api.create_room(alice_token, "general")
    await api.join(bob_token, room_id)  # seq 1
    alice = await open_page()
    await sign_in(alice, "alice")
    await open_room(alice, room_id)
    await send(alice, "first draft")  # seq 2

    opacity = "tools => getComputedStyle(tools).opacity"
    assert await alice.eval_on_selector(f"{message(2)} .msg-tools", opacity) == "0"  # quiet
    await alice.focus(f"{message(2)} [data-action=edit]")  # Tab stops on it: it shows
    assert await alice.eval_on_selector(f"{message(2)} .msg-tools", opacity) == "1"
    await alice.keyboard.press("Enter")
    box = f"{message(2)} .edit-box"
    await alice.wait_for_selector(box)
    await alice.keyboard.press("End")
    await alice.keyboard.type(", second thoughts")
    # bob's message and an edit of his come while alice types: the list is drawn again.
    posted = await api.post(bob_token, room_id, "bob here")
    path = f"/api/rooms/{room_id}/messages/{posted['seq']}"
    status, _ = await api.call("PATCH", path, token=bob_token, json={"body": "bob, here"})
    assert status == 200
    await alice.wait_for_selector(f"{message(posted['seq'])} .edited")
    assert await alice.input_value(box) == "first draft, second thoughts"
    assert await alice.evaluate("document.activeElement.classList.contains('edit-box')")
    await alice.keyboard.press("Shift+Enter")  # a new line, not a save
    await alice.keyboard.type("and more")
    await alice.keyboard.press("Enter")
    await alice.wait_for_selector(f"{message(2)} .edited")
    body = await alice.text_content(f"{message(2)} .body")
    assert body == "first draft, second thoughts\nand more (edited)"
