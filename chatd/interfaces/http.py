"""Small helpers every REST handler uses to read a request and shape a response."""

import asyncio
import ipaddress
import json
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from chatd.application.frames import message_json, user_json
from chatd.domain.errors import InvalidInput, NotAuthenticated
from chatd.domain.model import Message, User
from chatd.interfaces.errors import BadRequest
from chatd.interfaces.keys import ACCOUNTS, SETTINGS
from chatd.logs import CLIENT_KEY, USER_ID, USER_ID_KEY


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; 400 if it is not one, 413 (from aiohttp) if it is too big,
    408 if it does not arrive within CHATD_HTTP_IDLE_TIMEOUT (a client trickling it)."""
    try:
        async with asyncio.timeout(request.app[SETTINGS].http_idle_timeout):
            raw = await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout() from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # too deeply nested: RecursionError
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", code="expected_object")
    return body


def string_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string", code="invalid_field")
    return value


def int_query(request: web.Request, name: str, *, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidInput(f"'{name}' must be a non-negative integer", code="invalid_query")
    return int(raw)


def path_id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) == 0:
        raise InvalidInput(f"'{name}' must be a positive integer", code="invalid_path")
    return int(raw)


async def current_user(request: web.Request) -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send 'Authorization: Bearer <access token>'")
    user = await request.app[ACCOUNTS].authenticate(token.strip())
    request[USER_ID_KEY] = user.id  # for the access log
    USER_ID.set(user.id)
    return user


def client_address(request: web.Request) -> str:
    """Who sent the request: the peer, or, when the peer is a trusted proxy (CHATD_TRUSTED_PROXIES),
    the nearest address of X-Forwarded-For that is not a trusted proxy (read right to left, so
    what a client writes into the header itself is never believed)."""
    if CLIENT_KEY in request:
        return request[CLIENT_KEY]
    trusted = request.app[SETTINGS].trusted_proxies
    address = _ip(request.remote or "")
    if address is not None and trusted:
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
        hops = [hop.strip() for hop in forwarded.split(",")] if forwarded else []
        while hops and any(address in network for network in trusted):
            hop = _ip(hops.pop())
            if hop is None:
                break  # malformed: the last address known is as far as we can believe
            address = hop
    request[CLIENT_KEY] = str(address) if address is not None else (request.remote or "unknown")
    return request[CLIENT_KEY]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.1 on a dual-stack socket
    return mapped or address


def to_json(value: Any) -> Any:
    """Dataclasses and datetimes as the contract's JSON shapes. Users and messages take the
    shapes the WebSocket frames use (chatd.application.frames), so REST and WS cannot differ."""
    if isinstance(value, Message):
        return message_json(value)
    if isinstance(value, User):
        return user_json(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_json(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def json_response(value: Any, *, status: int = 200) -> web.Response:
    return web.json_response(to_json(value), status=status)
