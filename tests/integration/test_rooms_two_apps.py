"""Two chatd app instances, each with its own pool, posting into one room of one database."""

import asyncio

from chatd.app import create_app
from tests.support import Api


async def test_200_posts_through_two_apps_get_consecutive_seqs(aiohttp_client, settings, pool):
    first = Api(await aiohttp_client(create_app(settings)))
    second = Api(await aiohttp_client(create_app(settings)))
    alice, bob = await first.user_token("alice"), await second.user_token("bob")
    _, room = await first.call("POST", "/api/rooms", token=alice, json={"name": "shared"})
    status, _ = await second.call("POST", f"/api/rooms/{room['id']}/join", token=bob)
    assert status == 200

    async def post(api: Api, token: str, n: int) -> int:
        status, message = await api.call(
            "POST",
            f"/api/rooms/{room['id']}/messages",
            token=token,
            json={"body": f"message {n}", "client_id": f"{token[-8:]}-{n}"},
        )
        assert status == 201, message
        return message["seq"]

    seqs = await asyncio.gather(
        *[post(first, alice, n) for n in range(100)], *[post(second, bob, n) for n in range(100)]
    )
    assert sorted(seqs) == list(range(2, 202)), "seq 1 is 'bob joined'"
    rows = await pool.fetch("SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq", room["id"])
    assert [row["seq"] for row in rows] == list(range(1, 202))
