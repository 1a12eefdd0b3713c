"""Client frames of /ws: parsed and checked here, so the handlers get clean values."""

import json
from dataclasses import dataclass, field
from typing import Any

from chatd.domain.errors import InvalidInput

MAX_REF_LENGTH = 64
MAX_RESUME_ROOMS = 1000
MAX_ID = 2**63 - 1


class FrameError(InvalidInput):
    """A client frame that cannot be acted on; answered with an error frame carrying ref."""

    def __init__(self, message: str, *, code: str, ref: Any = None) -> None:
        super().__init__(message, code=code)
        self.ref = ref


@dataclass(frozen=True, slots=True)
class ClientFrame:
    type: str
    ref: str | int | None = None
    room_id: int = 0
    body: str = ""
    client_id: str | None = None
    token: str = ""
    positions: dict[int, int] = field(default_factory=dict)  # resume: room_id -> last_seq
    seq: int = 0  # read: the marker's new position; edit/delete_message: the message's seq


def parse_frame(text: str) -> ClientFrame:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("the frame is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise FrameError("a frame must be a JSON object", code="expected_object")
    ref = _ref(data)
    kind = data.get("type")
    parse = PARSERS.get(kind) if isinstance(kind, str) else None
    if parse is None:
        raise FrameError(f"unknown frame type {kind!r}", code="unknown_type", ref=ref)
    try:
        return parse(data, ref)
    except FrameError as error:
        error.ref = ref
        raise


def _ref(data: dict[str, Any]) -> str | int | None:
    ref = data.get("ref")
    valid = ref is None or (isinstance(ref, int) and not isinstance(ref, bool))
    if isinstance(ref, str) and len(ref) <= MAX_REF_LENGTH:
        valid = True
    if not valid:
        raise FrameError(
            f"'ref' must be an integer or a string of at most {MAX_REF_LENGTH} characters",
            code="invalid_ref",
        )
    return ref


def _positive_id(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not _is_int(value) or not 0 < value <= MAX_ID:
        raise FrameError(f"'{name}' must be a positive integer", code="invalid_field")
    return value


def _string(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise FrameError(f"'{name}' must be a string", code="invalid_field")
    return value


def _positions(value: Any, name: str) -> dict[int, int]:
    """{"<room_id>": last_seq, ...}"""
    if not isinstance(value, dict) or len(value) > MAX_RESUME_ROOMS:
        raise FrameError(f"'{name}' must be an object of room_id: last_seq", code="invalid_field")
    positions = {}
    for key, seq in value.items():
        if not (key.isascii() and key.isdigit() and 0 < int(key) <= MAX_ID):
            raise FrameError(f"'{name}' keys must be room ids", code="invalid_field")
        if not _is_int(seq) or not 0 <= seq <= MAX_ID:
            raise FrameError(f"'{name}' values must be seqs (integers >= 0)", code="invalid_field")
        positions[int(key)] = seq
    return positions


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _auth(data: dict[str, Any], ref: Any) -> ClientFrame:
    resume = data.get("resume")
    positions = {} if resume is None else _positions(resume, "resume")
    return ClientFrame("auth", ref, token=_string(data, "token") or "", positions=positions)


def _room(kind: str):
    def parse(data: dict[str, Any], ref: Any) -> ClientFrame:
        return ClientFrame(kind, ref, room_id=_positive_id(data, "room_id"))

    return parse


def _send_message(data: dict[str, Any], ref: Any) -> ClientFrame:
    return ClientFrame(
        "send_message",
        ref,
        room_id=_positive_id(data, "room_id"),
        body=_string(data, "body") or "",
        client_id=_string(data, "client_id", required=False),
    )


def _read(data: dict[str, Any], ref: Any) -> ClientFrame:
    seq = data.get("seq")
    if not _is_int(seq) or not 0 <= seq <= MAX_ID:
        raise FrameError("'seq' must be an integer >= 0", code="invalid_field")
    return ClientFrame("read", ref, room_id=_positive_id(data, "room_id"), seq=seq)


def _edit_message(data: dict[str, Any], ref: Any) -> ClientFrame:
    return ClientFrame(
        "edit_message",
        ref,
        room_id=_positive_id(data, "room_id"),
        seq=_positive_id(data, "seq"),
        body=_string(data, "body") or "",
    )


def _delete_message(data: dict[str, Any], ref: Any) -> ClientFrame:
    room_id, seq = _positive_id(data, "room_id"), _positive_id(data, "seq")
    return ClientFrame("delete_message", ref, room_id=room_id, seq=seq)


def _resume(data: dict[str, Any], ref: Any) -> ClientFrame:
    return ClientFrame("resume", ref, positions=_positions(data.get("rooms"), "rooms"))


PARSERS = {
    "auth": _auth,
    "join_room": _room("join_room"),
    "leave_room": _room("leave_room"),
    "typing": _room("typing"),
    "send_message": _send_message,
    "resume": _resume,
    "read": _read,
    "edit_message": _edit_message,
    "delete_message": _delete_message,
}
