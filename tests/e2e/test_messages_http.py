"""Messages over HTTP: post, idempotent retry, history pages, validation, the bus."""

import dataclasses

import pytest

from chatd.app import create_app
from chatd.domain.events import MessagePosted
from tests.fake_streams import InMemoryBus
from tests.support import Api
from tests.wsclient import WsClient

MESSAGE_KEYS = {"id", "room_id", "seq", "kind", "author", "body", "client_id", "created_at"}
MESSAGE_KEYS |= {"edited_at", "deleted"}  # the chat features' edits and deletes


async def post(api, token: str, room: dict, body: str, client_id: str | None = None) -> dict:
    status, message = await api.call(
        "POST",
        f"/api/rooms/{room['id']}/messages",
        token=token,
        json={"body": body, "client_id": client_id},
    )
    assert status == 201, message
    return message


async def history(api, token: str, room: dict, query: str = "") -> list[dict]:
    status, body = await api.call("GET", f"/api/rooms/{room['id']}/messages?{query}", token=token)
    assert status == 200, body
    return body["messages"]


async def test_post_returns_the_stored_message(api, alice, room):
    me = (await api.call("GET", "/api/me", token=alice))[1]
    message = await post(api, alice, room, "  hello world \n", client_id="c-1")
    assert set(message) == MESSAGE_KEYS
    assert message["author"] == me
    assert (message["room_id"], message["seq"], message["kind"]) == (room["id"], 1, "user")
    assert (message["body"], message["client_id"]) == ("hello world", "c-1"), "stored trimmed"
    assert await history(api, alice, room) == [message]


async def test_a_retried_client_id_returns_the_first_message(api, alice, room):
    first = await post(api, alice, room, "once", client_id="retry-me")
    for body in ("once", "changed on retry"):
        status, again = await api.call(
            "POST",
            f"/api/rooms/{room['id']}/messages",
            token=alice,
            json={"body": body, "client_id": "retry-me"},
        )
        assert (status, again) == (200, first)
    assert await history(api, alice, room) == [first]
    second = await post(api, alice, room, "twice", client_id="another")
    assert second["seq"] == 2


async def test_hostile_text_round_trips_verbatim(api, alice):
    texts = [
        "<script>alert('x')</script>",
        "'; DROP TABLE messages; --",
        'Robert\'); DROP TABLE rooms;-- "quoted" \\ back\\slash $1 %s {body}',
        "émoji 🎉 and ünïcödé, RTL \u202e text",
    ]
    for text in texts:
        status, room = await api.call(
            "POST", "/api/rooms", token=alice, json={"name": text, "topic": text}
        )
        assert status == 201 and (room["name"], room["topic"]) == (text, text)
        message = await post(api, alice, room, text, client_id=text[:64])
        assert (message["body"], message["client_id"]) == (text, text[:64])
        assert [m["body"] for m in await history(api, alice, room)] == [text]
    _, listing = await api.call("GET", "/api/rooms", token=alice)
    assert [r["name"] for r in listing["rooms"]] == texts[::-1]


async def test_history_pages_walk_both_ways(api, alice, room):
    posted = [(await post(api, alice, room, f"message {n}"))["seq"] for n in range(1, 31)]
    assert [m["seq"] for m in await history(api, alice, room, "limit=5")] == posted[-5:]
    backwards, cursor = [], ""
    while page := await history(api, alice, room, f"limit=7{cursor}"):
        backwards = [m["seq"] for m in page] + backwards
        cursor = f"&before_seq={page[0]['seq']}"
    forwards, after = [], 0
    while page := await history(api, alice, room, f"limit=7&after_seq={after}"):
        forwards += [m["seq"] for m in page]
        after = page[-1]["seq"]
    assert backwards == forwards == posted == list(range(1, 31))
    between = await history(api, alice, room, "after_seq=10&before_seq=14")
    assert [m["seq"] for m in between] == [11, 12, 13]


async def test_posting_publishes_the_message_on_the_bus(aiohttp_client, settings):
    bus = InMemoryBus()
    api = Api(await aiohttp_client(create_app(settings, event_bus=bus)))
    alice = await api.user_token("alice")
    room = {"id": await api.create_room(alice)}
    message = await post(api, alice, room, "live", client_id="k")
    await api.call(
        "POST",
        f"/api/rooms/{room['id']}/messages",
        token=alice,
        json={"body": "live", "client_id": "k"},
    )
    [published] = [e.message for e in bus.events if isinstance(e, MessagePosted)]
    assert (published.id, published.seq, published.body) == (
        message["id"],
        message["seq"],
        message["body"],
    ), "published once; the retry publishes nothing"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_field"),
        ({"body": None}, 422, "invalid_field"),
        ({"body": 42}, 422, "invalid_field"),
        ({"body": ["hi"]}, 422, "invalid_field"),
        ({"body": ""}, 422, "empty_body"),
        ({"body": " \n\t "}, 422, "empty_body"),
        ({"body": "x" * 4001}, 422, "body_too_long"),
        ({"body": "hi", "client_id": 7}, 422, "invalid_field"),
        ({"body": "hi", "client_id": ""}, 422, "invalid_client_id"),
        ({"body": "hi", "client_id": "c" * 65}, 422, "invalid_client_id"),
        ({"body": "nul \u0000 inside"}, 422, "bad_text"),
        ({"body": "lone \ud800 surrogate"}, 422, "bad_text"),
    ],
)
async def test_post_validation(api, alice, room, body, status, code):
    answer = await api.call("POST", f"/api/rooms/{room['id']}/messages", token=alice, json=body)
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert await history(api, alice, room) == []


async def test_post_limits_are_counted_after_trimming(api, alice, room):
    message = await post(api, alice, room, f"\n  {'y' * 4000}  \n", client_id="c" * 64)
    assert len(message["body"]) == 4000


@pytest.mark.parametrize(
    "data", [b"{nope", b"", b'"just a string"', b"\xff\xfe", b'{"body": ' + b"[" * 100_000]
)
async def test_post_malformed_json_is_400(api, alice, room, data):
    status, error = await api.call(
        "POST", f"/api/rooms/{room['id']}/messages", token=alice, data=data
    )
    assert status == 400 and error["error"]["code"] in {"malformed_json", "expected_object"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("before_seq=abc", "invalid_query"),
        ("after_seq=-1", "invalid_query"),
        ("after_seq=1.5", "invalid_query"),
        ("before_seq=", "invalid_query"),
        ("limit=0", "invalid_limit"),
        ("limit=-3", "invalid_query"),
        ("limit=201", "invalid_limit"),
        ("limit=1e3", "invalid_query"),
    ],
)
async def test_history_query_validation(api, alice, room, query, code):
    status, error = await api.call("GET", f"/api/rooms/{room['id']}/messages?{query}", token=alice)
    assert (status, error["error"]["code"]) == (422, code)


async def test_sending_past_the_message_rate_is_429_over_rest_and_an_error_over_ws(
    settings, aiohttp_client
):
    api = Api(await aiohttp_client(create_app(dataclasses.replace(settings, message_rate=3))))
    token = await api.user_token("alice")
    status, room = await api.call("POST", "/api/rooms", token=token, json={"name": "general"})
    assert status == 201
    path = f"/api/rooms/{room['id']}/messages"
    for n in range(3):
        assert (await api.call("POST", path, token=token, json={"body": f"m{n}"}))[0] == 201
    async with api.client.post(
        path, json={"body": "too many"}, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 10
        assert (await response.json())["error"]["code"] == "rate_limited"

    socket = await WsClient.connect(api.base_url, token)
    try:
        frame = {"type": "send_message", "room_id": room["id"], "body": "over ws"}
        reply = await socket.request(frame)
        assert (reply["type"], reply["code"]) == ("error", "rate_limited")
    finally:
        await socket.close()
    status, body = await api.call("GET", path, token=token)
    assert status == 200
    assert [m["body"] for m in body["messages"]] == ["m0", "m1", "m2"]
