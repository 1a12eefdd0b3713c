"""The messages of a room: in seq order whatever the arrival order, grouped by author and day,
system messages apart, a reader of older messages left where they are, markup shown as text."""

import asyncio

import pytest
from playwright.async_api import Page, Route

from tests.browser.conftest import PageWatch
from tests.browser.helpers import (
    open_room,
    send,
    shown_bodies,
    shown_seqs,
    sign_in,
    sign_up,
    until_shown,
)
from tests.support import Api

pytestmark = pytest.mark.slow

SCROLL_TOP = "() => document.getElementById('messages').scrollTop"
AT_BOTTOM = """() => {
    const box = document.getElementById('messages');
    return box.scrollHeight - box.scrollTop - box.clientHeight < 2;
}"""


async def alice_and_bob_in_a_room(api: Api, messages: int = 0) -> tuple[str, str, int]:
    alice, bob = await api.user_token("alice"), await api.user_token("bob")
    room_id = await api.create_room(alice, "general")
    await api.join(bob, room_id)  # seq 1: "bob joined"
    for n in range(messages):
        await api.post(bob, room_id, f"message {n + 1}")
    return alice, bob, room_id


async def test_a_live_message_during_the_history_load_comes_after_it(page: Page, api: Api) -> None:
    _, bob, room_id = await alice_and_bob_in_a_room(api, messages=3)  # seqs 1-4
    await sign_in(page, "alice")

    # Hold the history page on its way until a live message has been shown.
    history_asked = asyncio.Event()

    async def hold_history(route: Route) -> None:
        history_asked.set()
        await page.wait_for_selector("#messages li[data-seq='5']")
        await route.continue_()

    await page.route("**/api/rooms/*/messages?limit=50", hold_history)
    await page.click(f"button.room[data-room-id='{room_id}']")
    async with asyncio.timeout(15):
        await history_asked.wait()
    await api.post(bob, room_id, "live, during the load")

    await until_shown(page, 1)
    assert await shown_seqs(page) == [1, 2, 3, 4, 5]
    assert (await shown_bodies(page))[-1] == "live, during the load"


async def test_a_reader_of_older_messages_is_not_scrolled_away(page: Page, api: Api) -> None:
    _, bob, room_id = await alice_and_bob_in_a_room(api, messages=59)  # seqs 1-60
    await sign_in(page, "alice")
    await open_room(page, room_id)
    await until_shown(page, 60)
    assert await page.evaluate(AT_BOTTOM)  # a room opens on its latest message

    await page.eval_on_selector("#messages", "box => { box.scrollTop = 0; }")
    await api.post(bob, room_id, "while alice reads")
    await until_shown(page, 61)
    assert await page.evaluate(SCROLL_TOP) == 0
    assert await page.is_visible("#jump")

    await page.click("#jump")
    assert await page.evaluate(AT_BOTTOM)
    await page.wait_for_selector("#jump", state="hidden")
    await api.post(bob, room_id, "while alice follows")
    await until_shown(page, 62)
    await page.wait_for_function(AT_BOTTOM)  # at the bottom, the view follows


async def test_older_messages_load_above_in_order(page: Page, api: Api) -> None:
    _, _, room_id = await alice_and_bob_in_a_room(api, messages=59)  # seqs 1-60
    await sign_in(page, "alice")
    await open_room(page, room_id)
    await until_shown(page, 60)
    assert (await shown_seqs(page))[0] == 11  # the latest 50

    await page.click("#older")
    await until_shown(page, 1)
    assert await shown_seqs(page) == list(range(1, 61))
    assert await page.is_hidden("#older")  # nothing older than seq 1


async def test_messages_are_grouped_by_author_and_day(page: Page, api: Api) -> None:
    _, bob, room_id = await alice_and_bob_in_a_room(api)
    await api.post(bob, room_id, "bob one")
    await api.post(bob, room_id, "bob two")
    await sign_in(page, "alice")
    await open_room(page, room_id)
    await send(page, "alice one")
    await until_shown(page, 4)

    items = await page.eval_on_selector_all(
        "#messages li",
        """items => items.map(item => [
            item.className, item.querySelector('.author')?.textContent ?? null])""",
    )
    assert items == [
        ["day", None],
        ["msg system", None],  # "bob joined"
        ["msg", "bob"],
        ["msg continued", None],  # bob again, within minutes: no second name
        ["msg own", "alice"],
    ]
    assert await page.text_content("#messages li.day") == "Today"
    assert await page.locator("#messages li.msg time").count() == 4


XSS = [  # each would run alert(n) if the page ever turned text into markup
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "<svg><script>alert(4)</script></svg>",
    '<iframe src="javascript:alert(5)"></iframe>',
    '<iframe srcdoc="<script>parent.alert(6)</script>"></iframe>',
    '<a href="javascript:alert(7)">click me</a>',
    "<body onload=alert(8)>",
    "<details open ontoggle=alert(9)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(10)>",
    '"><script>alert(11)</script>',
    "'><img src=x onerror=alert(12)>",
    "</li></ol><img src=x onerror=alert(13)>",
    '<object data="javascript:alert(14)"></object>',
    '<embed src="javascript:alert(15)">',
    "<input autofocus onfocus=alert(16)>",
    "<video><source onerror=alert(17)></video>",
    "javascript:alert(18)",
    "${alert(19)} {{constructor.constructor('alert(20)')()}}",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(21)">',
    '<base href="javascript:alert(22)//">',
    '<form action="javascript:alert(23)"><button>go</button></form>',
    "<style>*{background:url(javascript:alert(24))}</style>",
    "<b>bold?</b><script>alert(25)</script>",
]
INJECTED = (  # where text from others is shown: none of these may appear inside
    ":is(#messages, #room-title, #room-topic, .room-list) :is(img, script, svg, iframe, object, "
    "embed, video, form, style, meta, base, details, math, b, a[href^='javascript'], input)"
)


async def test_markup_in_messages_and_room_names_is_only_text(
    page: Page, api: Api, page_watch: PageWatch, figure
) -> None:
    """Every payload, as a room name, a topic, a stored message and a live one, shows as
    the text it is: nothing runs, no element is made of it."""
    bob = await api.user_token("bob")
    tricky_name = "<img src=x onerror=alert(1)>"
    room_id = await api.create_room(bob, tricky_name)
    for payload in XSS:
        await api.post(bob, room_id, payload)
    named = []
    for payload in XSS[:6]:
        status, room = await api.call(
            "POST", "/api/rooms", token=bob, json={"name": payload, "topic": payload}
        )
        assert status == 201
        named.append(room["id"])

    response = await page.goto("/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    await sign_up(page, "alice")
    for named_id, payload in zip(named, XSS, strict=False):
        await open_room(page, named_id)
        assert await page.text_content("#room-title") == payload
        assert await page.text_content("#room-topic") == payload
    await open_room(page, room_id)
    await page.click("#join")
    await until_shown(page, len(XSS) + 1)
    for payload in XSS:  # live ones, over the socket
        await api.post(bob, room_id, payload)
    await send(page, XSS[-1])
    await until_shown(page, 2 * len(XSS) + 2)

    assert await page.text_content("#room-title") == tricky_name
    assert await page.text_content(f"button.room[data-room-id='{room_id}'] .name") == tricky_name
    assert await shown_bodies(page) == [*XSS, "alice joined", *XSS, XSS[-1]]
    injected = await page.locator(INJECTED).count()
    # The page watch also fails the test on any dialog, and on a CSP refusal (console error).
    executed = len(page_watch.dialogs)
    shown = 2 * len(XSS) + 1 + 2 * len(named) + 1
    figure(f"executed {executed} of {shown}, elements injected {injected}")
    assert (executed, injected) == (0, 0)
