"""How a load-generator socket talks to each contender: URL, opening handshake, the frame that
carries a message, which received frames are deliveries, and keepalive replies.

Every contender gets the same body: `B:step:sender:seq:scheduled_ns:` padded to the body size.
Receivers find that marker in the raw frame text, so no contender's frames are parsed whole.
"""

import json
import re
from dataclasses import dataclass
from typing import Protocol

from chatd.bench.rawws import RawWebSocket

MARK = re.compile(rb"B:(\d+):(\d+):(\d+):(\d+):")


@dataclass(frozen=True, slots=True)
class ConnSpec:
    room: str  # the room's name (ceiling, peer) or id (chatd)
    token: str | None = None  # chatd's access token
    sender: int | None = None  # this socket also sends, as sender number N


def body(step: int, sender: int, seq: int, scheduled_ns: int, size: int) -> str:
    head = f"B:{step}:{sender}:{seq}:{scheduled_ns}:"
    return head + "x" * max(0, size - len(head))


class Wire(Protocol):
    def url(self, base: str, spec: ConnSpec) -> str: ...

    async def open(self, ws: RawWebSocket, spec: ConnSpec) -> None: ...

    def frame(self, room: str, text: str, tag: str) -> str: ...

    def is_delivery(self, payload: bytes) -> bool:
        """On a sender's socket, whether a frame carrying its own marker is a delivery."""
        ...

    def answer(self, payload: bytes) -> str | None:
        """The reply a frame without a marker calls for (a keepalive), if any."""
        ...

    def is_error(self, payload: bytes) -> bool: ...


async def _text(ws: RawWebSocket) -> str:
    return await ws.receive_text()


class CeilingWire:
    def url(self, base: str, spec: ConnSpec) -> str:
        return f"{base}/ws?room={spec.room}"

    async def open(self, ws: RawWebSocket, spec: ConnSpec) -> None:
        return None

    def frame(self, room: str, text: str, tag: str) -> str:
        return json.dumps({"type": "msg", "room": room, "body": text}, separators=(",", ":"))

    def is_delivery(self, payload: bytes) -> bool:
        return True

    def answer(self, payload: bytes) -> str | None:
        return None

    def is_error(self, payload: bytes) -> bool:
        return False


class PeerWire:
    """Engine.IO 4 / Socket.IO 5 over a raw WebSocket: `0` open, `40` connect, `42` event,
    `43` ack; the server's ping `2` wants a pong `3`."""

    def url(self, base: str, spec: ConnSpec) -> str:
        return f"{base}/socket.io/?EIO=4&transport=websocket"

    async def open(self, ws: RawWebSocket, spec: ConnSpec) -> None:
        if not (await _text(ws)).startswith("0"):
            raise ConnectionError("no Engine.IO open packet")
        await ws.send_str("40")
        while not (await _text(ws)).startswith("40"):
            pass
        await ws.send_str("421" + json.dumps(["join", {"room": spec.room}]))
        while not (await _text(ws)).startswith("431"):
            pass

    def frame(self, room: str, text: str, tag: str) -> str:
        return "42" + json.dumps(["msg", {"room": room, "body": text}], separators=(",", ":"))

    def is_delivery(self, payload: bytes) -> bool:
        return True

    def answer(self, payload: bytes) -> str | None:
        return "3" if payload == b"2" else None

    def is_error(self, payload: bytes) -> bool:
        return payload.startswith(b"44")


class ChatdWire:
    """chatd's public `/ws` contract: `auth` then `ready`; `send_message` gets an `ack` (which
    repeats the message, so only `new_message` counts) and every member a `new_message`."""

    def url(self, base: str, spec: ConnSpec) -> str:
        return f"{base}/ws"

    async def open(self, ws: RawWebSocket, spec: ConnSpec) -> None:
        await ws.send_str(json.dumps({"type": "auth", "token": spec.token}))
        while (frame := json.loads(await _text(ws)))["type"] != "ready":
            if frame["type"] == "error":
                raise ConnectionError(f"chatd refused the socket: {frame}")

    def frame(self, room: str, text: str, tag: str) -> str:
        frame = {"type": "send_message", "room_id": int(room), "body": text, "client_id": tag}
        return json.dumps(frame | {"ref": tag}, separators=(",", ":"))

    def is_delivery(self, payload: bytes) -> bool:
        return json.loads(payload).get("type") == "new_message"

    def answer(self, payload: bytes) -> str | None:
        return None

    def is_error(self, payload: bytes) -> bool:
        return b'"type":"error"' in payload or b'"type": "error"' in payload


WIRES: dict[str, Wire] = {"ceiling": CeilingWire(), "peer": PeerWire(), "chatd": ChatdWire()}
