"""The injection corpus in every field of every route, every path id and every query cursor,
over REST and in WebSocket frames: never a 5xx, the text comes back exactly as sent, and every
table is still there afterwards."""

import dataclasses
import json
from urllib.parse import quote

import asyncpg
import pytest
from yarl import URL

from chatd.app import create_app
from tests.abuse.injection import JSON_VALUES, RAW_BODIES, SQL_STRINGS, URL_VALUES
from tests.support import Api
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

TABLES = ["users", "refresh_tokens", "rooms", "memberships", "messages"]


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.failures: list[str] = []  # 5xx, internal_error frames, logins that got in

    def count(self, status: int | str, what: str) -> None:
        self.sent += 1
        if status == "internal_error" or (isinstance(status, int) and status >= 500):
            self.failures.append(f"{status}: {what}"[:200])


@pytest.fixture
async def api(settings, aiohttp_client) -> Api:
    # No login limit: the corpus would hit it after 20 tries and stop reaching the database.
    return Api(await aiohttp_client(create_app(dataclasses.replace(settings, login_rate=0))))


async def test_the_injection_corpus_gets_no_5xx(api, database_url, figure):
    tally = Tally()
    alice = await api.user_token("alice")
    pair = await api.login("alice")
    room_id = await api.create_room(alice, "general")
    await api.join(await api.user_token("bob"), room_id)

    await body_fields(api, tally, alice, room_id)
    await raw_bodies(api, tally)
    await path_ids(api, tally, alice)
    await query_cursors(api, tally, alice, room_id)
    await headers(api, tally)
    await ws_frames(api, tally, alice, room_id)

    stored = await stored_bodies(api, alice, room_id)
    storable = [s for s in SQL_STRINGS if s.strip() and len(s) <= 4000 and "\x00" not in s]
    missing = [s for s in storable if "\ud800" not in s and s.strip() not in stored]
    assert missing == []  # stored and returned verbatim (trimmed)
    status, user = await api.call("GET", "/api/me", token=alice)
    assert (status, user["username"]) == (200, "alice")
    refresh = {"refresh_token": pair["refresh_token"]}
    assert (await api.call("POST", "/api/auth/refresh", json=refresh))[0] == 200
    counts = await table_counts(database_url)
    assert counts["users"] >= 2 and counts["rooms"] >= 1 and counts["messages"] >= 30
    figure(f"5xx {len(tally.failures)} of {tally.sent} requests and frames; tables intact {counts}")
    assert tally.failures == []


async def body_fields(api: Api, tally: Tally, token: str, room_id: int) -> None:
    routes = [
        ("/api/auth/register", None, {"username": "eve", "password": "another horse"}),
        ("/api/auth/login", None, {"username": "alice", "password": "correct horse"}),
        ("/api/auth/refresh", None, {"refresh_token": "x"}),
        ("/api/auth/logout", None, {"refresh_token": "x"}),
        ("/api/rooms", token, {"name": "room", "topic": "topic"}),
        (f"/api/rooms/{room_id}/messages", token, {"body": "hi", "client_id": "c"}),
    ]
    for path, bearer, valid in routes:
        for field in valid:
            for value in JSON_VALUES:
                body = {**valid, field: value}
                status, _ = await api.call("POST", path, token=bearer, json=body)
                tally.count(status, f"POST {path} {field}={value!r}")
                if path == "/api/auth/login" and status == 200:
                    tally.failures.append(f"signed in with {field}={value!r}")


async def raw_bodies(api: Api, tally: Tally) -> None:
    for raw in RAW_BODIES:
        for path in ("/api/auth/register", "/api/auth/login"):
            async with api.client.post(path, data=raw) as response:
                tally.count(response.status, f"POST {path} {raw[:60]!r}")


def encoded(path: str) -> URL:
    return URL(path, encoded=True)


async def path_ids(api: Api, tally: Tally, token: str) -> None:
    templates = [
        ("GET", "/api/rooms/{}"),
        ("POST", "/api/rooms/{}/join"),
        ("POST", "/api/rooms/{}/leave"),
        ("GET", "/api/rooms/{}/members"),
        ("GET", "/api/rooms/{}/messages"),
        ("POST", "/api/rooms/{}/messages"),
    ]
    headers = {"Authorization": f"Bearer {token}"}
    for method, template in templates:
        for value in URL_VALUES:
            path = template.format(quote(value, safe=""))
            async with api.client.request(
                method, encoded(path), headers=headers, json={"body": "x"}
            ) as response:
                tally.count(response.status, f"{method} {path}")


async def query_cursors(api: Api, tally: Tally, token: str, room_id: int) -> None:
    queries = [
        ("/api/rooms", "limit"),
        ("/api/rooms", "before_id"),
        (f"/api/rooms/{room_id}/messages", "before_seq"),
        (f"/api/rooms/{room_id}/messages", "after_seq"),
        (f"/api/rooms/{room_id}/messages", "limit"),
    ]
    headers = {"Authorization": f"Bearer {token}"}
    for path, name in queries:
        for value in URL_VALUES:
            url = encoded(f"{path}?{name}={quote(value, safe='')}")
            async with api.client.get(url, headers=headers) as response:
                tally.count(response.status, f"GET {url}")
        # the same name twice, and in brackets
        for query in (f"{name}=1&{name}=2", f"{name}[]=1", f"{name}[$gt]=0"):
            async with api.client.get(encoded(f"{path}?{query}"), headers=headers) as response:
                tally.count(response.status, f"GET {path}?{query}")


async def headers(api: Api, tally: Tally) -> None:
    for value in SQL_STRINGS:
        text = value.encode("utf-8", "surrogatepass").decode("latin-1", "replace")
        if any(ch in text for ch in "\r\n\x00") or text != text.strip():
            continue  # not sendable as a header value at all
        for header in ("Authorization", "X-Request-Id", "X-Forwarded-For"):
            bearer = f"Bearer {text}" if header == "Authorization" else text
            async with api.client.get("/api/me", headers={header: bearer}) as response:
                tally.count(response.status, f"{header}: {text[:40]!r}")


async def ws_frames(api: Api, tally: Tally, token: str, room_id: int) -> None:
    client = await WsClient.connect(api.base_url, token)
    try:
        for value in JSON_VALUES:
            frames = [
                {"type": "send_message", "room_id": room_id, "body": value},
                {"type": "send_message", "room_id": room_id, "body": "x", "client_id": value},
                {"type": "send_message", "room_id": value, "body": "x"},
                {"type": "join_room", "room_id": value},
                {"type": "typing", "room_id": value},
                {"type": "resume", "rooms": {str(value): 0}},
                {"type": "resume", "rooms": {str(room_id): value}},
                {"type": "auth", "token": value},
            ]
            for frame in frames:
                reply = (
                    await client.request(frame)
                    if frame["type"] != "resume"
                    else (await resume(client, frame))
                )
                tally.count(reply.get("code", "ok"), f"ws {json.dumps(frame)[:100]}")
    finally:
        await client.close()


async def resume(client: WsClient, frame: dict) -> dict:
    """`resume` answers with `resumed` (or an error) rather than an ack."""
    client._ref = getattr(client, "_ref", 0) + 1
    ref = client._ref
    await client.send({**frame, "ref": ref})
    return await client.expect_match(
        lambda f: f["type"] in {"resumed", "error"} and f.get("ref") == ref
    )


async def stored_bodies(api: Api, token: str, room_id: int) -> set[str]:
    bodies: set[str] = set()
    before = ""
    while True:
        status, page = await api.call(
            "GET", f"/api/rooms/{room_id}/messages?limit=200{before}", token=token
        )
        assert status == 200
        if not page["messages"]:
            return bodies
        bodies |= {m["body"] for m in page["messages"]}
        before = f"&before_seq={page['messages'][0]['seq']}"


async def table_counts(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}
    finally:
        await conn.close()
