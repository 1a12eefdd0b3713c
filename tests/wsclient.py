"""A small WebSocket client for the /ws tests: JSON frames in and out, every wait bounded."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

WAIT = 10.0


class WsClient:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session=None) -> None:
        self.ws = ws
        self._session = session
        self.ready: dict | None = None
        self._skipped: list[dict] = []  # frames passed over by expect/request, read again next

    @classmethod
    async def connect(
        cls,
        base_url: str,
        token: str | None = None,
        *,
        resume: dict | None = None,
        session: aiohttp.ClientSession | None = None,
        **kwargs: Any,
    ) -> "WsClient":
        """Open /ws on base_url; with a token, authenticate and wait for `ready`."""
        own = session is None
        session = session or aiohttp.ClientSession()
        url = base_url.replace("http", "ws", 1) + "/ws"
        ws = await session.ws_connect(url, **kwargs)
        client = cls(ws, session if own else None)
        if token is not None:
            frame: dict[str, Any] = {"type": "auth", "token": token}
            if resume is not None:
                frame["resume"] = {str(room): seq for room, seq in resume.items()}
            await client.send(frame)
            client.ready = await client.expect("ready")
        return client

    async def send(self, frame: dict | str) -> None:
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, within: float = WAIT) -> dict:
        if self._skipped:
            return self._skipped.pop(0)
        return await self._read(within)

    async def _read(self, within: float) -> dict:
        msg = await self.ws.receive(timeout=within)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {msg.type!r} {self.ws.close_code}")
        return json.loads(msg.data)

    async def expect(self, kind: str, within: float = WAIT, **fields: Any) -> dict:
        """The first frame of this type (and fields); the others stay to be read; bounded."""

        def match(frame: dict) -> bool:
            return frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items())

        return await self._first(match, within)

    async def expect_match(self, match: Callable[[dict], bool], within: float = WAIT) -> dict:
        """The first frame match() accepts; the others stay to be read; bounded."""
        return await self._first(match, within)

    async def frames_until(self, match: Callable[[dict], bool], within: float = WAIT) -> list[dict]:
        """Every frame in arrival order up to and including the first one match() accepts."""
        got: list[dict] = []
        async with asyncio.timeout(within):
            while not got or not match(got[-1]):
                got.append(await self.recv(within))
        return got

    async def _first(self, match: Callable[[dict], bool], within: float) -> dict:
        for index, frame in enumerate(self._skipped):
            if match(frame):
                return self._skipped.pop(index)
        async with asyncio.timeout(within):
            while True:
                frame = await self._read(within)
                if match(frame):
                    return frame
                self._skipped.append(frame)

    async def request(self, frame: dict, within: float = WAIT) -> dict:
        """Send a frame with a fresh ref and wait for its ack or error."""
        self._ref = getattr(self, "_ref", 0) + 1
        ref = self._ref
        await self.send({**frame, "ref": ref})
        return await self._first(
            lambda reply: reply["type"] in {"ack", "error"} and reply.get("ref") == ref, within
        )

    async def collect_messages(
        self, room_id: int, done: Callable[[list[dict]], bool], within: float = 60.0
    ) -> list[dict]:
        """Messages of a room in arrival order until done(messages) holds."""
        got: list[dict] = []
        async with asyncio.timeout(within):
            while not done(got):
                frame = await self.recv(within)
                is_message = frame["type"] in {"new_message", "system_message"}
                if is_message and frame["message"]["room_id"] == room_id:
                    got.append(frame["message"])
        return got

    async def closed(self, within: float = WAIT) -> int | None:
        """Read until the server closes; its close code."""
        async with asyncio.timeout(within):
            while True:
                msg = await self.ws.receive()
                if msg.type is aiohttp.WSMsgType.CLOSE:
                    # The code in the server's close frame. (aiohttp's client reports 1006
                    # instead when its reply cannot be written because the server has already
                    # dropped the connection, as aiohttp servers do after a close made from
                    # another task than the socket's reader.)
                    return msg.data
                if msg.type is aiohttp.WSMsgType.CLOSED:
                    return self.ws.close_code
                if msg.type is aiohttp.WSMsgType.ERROR:
                    return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
        if self._session is not None:
            await self._session.close()


def seqs(messages: list[dict]) -> list[int]:
    return [m["seq"] for m in messages]
