"""Users, rooms and memberships for chatd, made only through its public REST routes."""

import asyncio

import aiohttp

from chatd.bench.wire import ConnSpec

PASSWORD = "bench-password"
AT_ONCE = 8


def layout(rooms: int, members: int, senders: int) -> list[tuple[int, int, int | None]]:
    """(room, member, sender number or None) per socket; sender k is member k // rooms of room
    k % rooms, so senders spread round-robin over the rooms."""
    return [
        (room, member, k if (k := member * rooms + room) < senders else None)
        for room in range(rooms)
        for member in range(members)
    ]


async def _json(response: aiohttp.ClientResponse, expected: int) -> dict:
    if response.status != expected:
        raise RuntimeError(
            f"{response.method} {response.url}: {response.status} {await response.text()}"
        )
    return await response.json() if response.content_type == "application/json" else {}


async def _user(http: aiohttp.ClientSession, name: str, gate: asyncio.Semaphore) -> str:
    credentials = {"username": name, "password": PASSWORD}
    async with gate:
        async with http.post("/api/auth/register", json=credentials) as response:
            await _json(response, 201)
        async with http.post("/api/auth/login", json=credentials) as response:
            return (await _json(response, 200))["access_token"]


async def populate(base_url: str, rooms: int, members: int, senders: int) -> list[ConnSpec]:
    """One user per socket; member 0 of each room creates it, the others join it."""
    sockets = layout(rooms, members, senders)
    gate = asyncio.Semaphore(AT_ONCE)
    async with aiohttp.ClientSession(base_url=base_url) as http:
        tokens = await asyncio.gather(*(_user(http, f"u{r}_{m}", gate) for r, m, _ in sockets))
        room_ids: dict[int, int] = {}
        for (room, member, _), token in zip(sockets, tokens, strict=True):
            if member == 0:
                headers = {"Authorization": f"Bearer {token}"}
                async with http.post(
                    "/api/rooms", json={"name": f"bench-{room}"}, headers=headers
                ) as response:
                    room_ids[room] = (await _json(response, 201))["id"]

        async def join(room: int, token: str) -> None:
            async with gate:
                path = f"/api/rooms/{room_ids[room]}/join"
                headers = {"Authorization": f"Bearer {token}"}
                async with http.post(path, headers=headers) as response:
                    await _json(response, 200)

        await asyncio.gather(
            *(join(r, t) for (r, m, _), t in zip(sockets, tokens, strict=True) if m)
        )
    return [
        ConnSpec(room=str(room_ids[room]), token=token, sender=sender)
        for (room, _, sender), token in zip(sockets, tokens, strict=True)
    ]
