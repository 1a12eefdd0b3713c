"""Steps a person takes on the bundled page, and what the tests read back from it."""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from playwright.async_api import Page, WebSocket, WebSocketRoute

PASSWORD = "correct horse"


async def sign_up(page: Page, username: str) -> None:
    """Create an account through the page (Enter in the form) and wait until it is live."""
    await page.goto("/")
    await page.click("#auth-switch")
    await page.fill("#auth-form input[name=username]", username)
    await page.fill("#auth-form input[name=password]", PASSWORD)
    await page.press("#auth-form input[name=password]", "Enter")
    await until_connected(page)


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/")
    await page.fill("#auth-form input[name=username]", username)
    await page.fill("#auth-form input[name=password]", PASSWORD)
    await page.click("#auth-submit")
    await until_connected(page)


async def until_connected(page: Page) -> None:
    await page.wait_for_selector("#chat-view", state="visible")
    await page.wait_for_selector("#status[data-state=connected]")


async def create_room(page: Page, name: str) -> int:
    """Create a room through the sidebar form; it opens. Its id."""
    await page.fill("#new-room-name", name)
    await page.click("#new-room button[type=submit]")
    current = "#my-rooms button.room[aria-current=true]"
    await page.wait_for_selector(current, state="attached")  # the sidebar may be folded away
    await page.wait_for_selector("#composer", state="visible")
    return int(await page.get_attribute(current, "data-room-id") or 0)


async def open_room(page: Page, room_id: int) -> None:
    await page.click(f"button.room[data-room-id='{room_id}']")
    await page.wait_for_selector(f"button.room[data-room-id='{room_id}'][aria-current=true]")


async def send(page: Page, text: str) -> None:
    """Type a message and press Enter; wait until the box is empty again (stored)."""
    await page.fill("#body", text)
    await page.press("#body", "Enter")
    await page.wait_for_function("() => document.getElementById('body').value === ''")


async def until_shown(page: Page, seq: int) -> None:
    await page.wait_for_selector(f"#messages li[data-seq='{seq}']")


async def shown_seqs(page: Page) -> list[int]:
    return await page.eval_on_selector_all(
        "#messages li[data-seq]", "items => items.map(item => Number(item.dataset.seq))"
    )


async def shown_bodies(page: Page) -> list[str]:
    return await page.eval_on_selector_all(
        "#messages li.msg .body", "items => items.map(item => item.textContent)"
    )


def sent_frames(page: Page) -> list[dict[str, Any]]:
    """Every frame the page sends on its WebSockets from now on (the list grows)."""
    frames: list[dict[str, Any]] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def auth_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] == "auth"]


def received_frames(page: Page) -> list[dict[str, Any]]:
    """Every frame the page receives on its WebSockets from now on (the list grows)."""
    frames: list[dict[str, Any]] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def opened_sockets(page: Page) -> list[WebSocket]:
    """Every WebSocket the page opens from now on (the list grows)."""
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    return sockets


async def until(condition: Callable[[], bool], *, within: float, what: str) -> None:
    """Wait for `condition` (checked every 0.1 s) to hold; fail saying `what` after `within` s."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.1)


class Relay:
    """The page's sockets pass through the test, which can speak to the page as the server."""

    def __init__(self) -> None:
        self.routes: list[WebSocketRoute] = []
        self.sent: list[dict[str, Any]] = []  # what the page sent
        self.withheld: set[str] = set()  # frame types the server sends that the page is not given

    def handle(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def to_server(message: str | bytes) -> None:
            self.sent.append(json.loads(message))
            server_side.send(message)

        def to_page(message: str | bytes) -> None:
            if json.loads(message)["type"] not in self.withheld:
                page_side.send(message)

        page_side.on_message(to_server)
        server_side.on_message(to_page)
        self.routes.append(page_side)

    def to_page(self, **frame: Any) -> None:
        self.routes[-1].send(json.dumps(frame))
