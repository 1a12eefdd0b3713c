"""The token attack matrix (RFC 8725) on every place a token is read: `Authorization` on REST,
the `auth` frame that opens a socket, the `auth` frame that renews one, and the refresh route.
Each forged token is refused; the same claims properly signed are accepted (the forgery, not
the setup, is what fails)."""

import asyncio
import dataclasses
import statistics
import time

import asyncpg
import pytest

from chatd.app import create_app
from tests.abuse.forged import access_attacks, claims, expired, token
from tests.support import Api
from tests.wsclient import WsClient

WS_UNAUTHENTICATED = 4401


async def refused_on_rest(api: Api, forged: str) -> bool:
    status, body = await api.call("GET", "/api/me", token=forged)
    assert status != 500, body
    return status == 401 and body["error"]["code"] in {
        "invalid_token",
        "token_expired",
        "not_authenticated",
    }


async def refused_on_ws_open(api: Api, forged: str) -> bool:
    client = await WsClient.connect(api.base_url)
    try:
        await client.send({"type": "auth", "token": forged})
        return await client.closed() == WS_UNAUTHENTICATED
    finally:
        await client.close()


async def refused_on_ws_renewal(client: WsClient, forged: str) -> bool:
    reply = await client.request({"type": "auth", "token": forged})
    return reply["type"] == "error" and reply["code"] in {"invalid_token", "token_expired"}


@pytest.mark.slow  # 49 kinds x 3 places, 49 sockets opened
async def test_forged_access_tokens_are_refused_everywhere(api, figure):
    user = await api.register("alice")
    attacks = {**access_attacks(user["id"]), "expired": expired(user["id"])}
    pair = await api.login("alice")
    attacks["a real refresh token"] = pair["refresh_token"]
    renewing = await WsClient.connect(api.base_url, pair["access_token"])
    accepted = []
    try:
        for name, forged in attacks.items():
            if not await refused_on_rest(api, forged):
                accepted.append(f"{name} on REST")
            if not await refused_on_ws_open(api, forged):
                accepted.append(f"{name} on ws open")
            if not await refused_on_ws_renewal(renewing, forged):
                accepted.append(f"{name} on ws renewal")
        # The control: the same claims, signed as chatd signs them, are accepted.
        assert await refused_on_rest(api, token(claims(str(user["id"])))) is False
        assert (await renewing.request({"type": "auth", "token": pair["access_token"]}))[
            "type"
        ] == "ack"
    finally:
        await renewing.close()
    tried = 3 * len(attacks)
    figure(f"accepted {len(accepted)} of {tried} forged access tokens ({len(attacks)} kinds x 3)")
    assert accepted == []


async def test_forged_refresh_tokens_are_refused(api, figure):
    user = await api.register("alice")
    pair = await api.login("alice")
    uid = str(user["id"])
    now = int(time.time())
    family = "f" * 32
    attacks = {
        "an access token": pair["access_token"],
        "alg none": token(claims(uid, typ="refresh", fam=family), key=None, alg="none"),
        "HS512": token(claims(uid, typ="refresh", fam=family), alg="HS512"),
        "missing fam": token(claims(uid, typ="refresh")),
        "fam a number": token(claims(uid, typ="refresh", fam=7)),
        "expired": token(claims(uid, typ="refresh", fam=family, iat=now - 99, exp=now - 9)),
        "the real one, one character changed": pair["refresh_token"][:-1]
        + ("A" if pair["refresh_token"][-1] != "A" else "B"),
        "a list": ["x"],
        "a number": 5,
    }
    # Signed with chatd's own key but never issued: refresh refuses it (not in the database);
    # logout only needs a genuine signature, so it is tried on refresh alone.
    never_issued = token(claims(uid, typ="refresh", fam=family))
    status, body = await api.call("POST", "/api/auth/refresh", json={"refresh_token": never_issued})
    accepted = [] if status == 401 else [f"never issued on /api/auth/refresh: {status}"]
    for name, forged in attacks.items():
        for route in ("/api/auth/refresh", "/api/auth/logout"):
            status, body = await api.call("POST", route, json={"refresh_token": forged})
            refused = status in {401, 422} and body["error"]["code"] in {
                "invalid_token",
                "token_expired",
                "invalid_field",
            }
            if not refused:
                accepted.append(f"{name} on {route}: {status}")
    # The real one still works after all that.
    assert (
        await api.call("POST", "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    )[0] == 200
    figure(f"accepted {len(accepted)} of {2 * len(attacks) + 1} forged refresh tokens")
    assert accepted == []


async def test_a_deleted_users_tokens_are_refused(api, database_url, figure):
    await api.register("mallory")
    pair = await api.login("mallory")
    socket = await WsClient.connect(api.base_url, pair["access_token"])
    await socket.close()
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.execute("DELETE FROM users WHERE username = 'mallory'") == "DELETE 1"
    finally:
        await conn.close()
    access, refresh = pair["access_token"], pair["refresh_token"]
    refusals = [
        await refused_on_rest(api, access),
        await refused_on_ws_open(api, access),
        (await api.call("POST", "/api/auth/refresh", json={"refresh_token": refresh}))[0] == 401,
    ]
    figure(f"accepted {refusals.count(False)} of {len(refusals)} tokens of a deleted user")
    assert all(refusals)


async def test_a_reused_refresh_token_revokes_its_family(api, figure):
    await api.register("alice")
    stolen = await api.login("alice")
    socket = await WsClient.connect(api.base_url, stolen["access_token"])
    status, victim = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    assert status == 200
    status, body = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    assert (status, body["error"]["code"]) == (401, "token_reused")
    assert await socket.closed() == WS_UNAUTHENTICATED  # the user's sockets are closed too
    await socket.close()
    accepted = 0
    for refresh in (victim["refresh_token"], stolen["refresh_token"]):
        status, body = await api.call("POST", "/api/auth/refresh", json={"refresh_token": refresh})
        accepted += status != 401
    figure(f"accepted {accepted} of 2 refresh tokens of a family after a reuse")
    assert accepted == 0


LOGINS_EACH = 15


@pytest.mark.slow  # 30 logins at bcrypt cost 10
async def test_unknown_user_and_wrong_password_look_the_same(settings, aiohttp_client, figure):
    """Same status, same body, and the same bcrypt work (close in time) for both."""
    slow_hashing = dataclasses.replace(settings, bcrypt_rounds=10, login_rate=0)
    api = Api(await aiohttp_client(create_app(slow_hashing)))
    await api.register("alice")
    times: dict[str, list[float]] = {"alice": [], "nobody": []}
    answers = set()
    for _ in range(LOGINS_EACH):
        for username in times:  # interleaved, so that load on the machine hits both alike
            started = time.perf_counter()
            status, body = await api.call(
                "POST", "/api/auth/login", json={"username": username, "password": "wrong pass"}
            )
            times[username].append(time.perf_counter() - started)
            answers.add((status, repr(body)))
        await asyncio.sleep(0)
    assert len(answers) == 1, answers
    [(status, _)] = answers
    assert status == 401
    wrong, unknown = (statistics.median(times[name]) * 1000 for name in ("alice", "nobody"))
    figure(
        f"identical answers 1 of 1; median wrong password {wrong:.0f} ms, "
        f"unknown user {unknown:.0f} ms ({LOGINS_EACH} each, bcrypt cost 10)"
    )
    # Generous: on a busy machine single logins vary a lot, but skipping bcrypt for an
    # unknown user would make it 10-100x faster, not 40% faster.
    assert abs(wrong - unknown) < 0.4 * max(wrong, unknown)
    assert min(wrong, unknown) > 5  # bcrypt really ran for both
