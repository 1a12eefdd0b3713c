"""No token, password or message body in a server's output, in either log format, whatever a
client does with them: right and wrong logins, refreshes, a reused refresh token, sockets
authenticated, renewed and refused, messages sent, refused and too long, tokens in odd places."""

import secrets

import aiohttp
import pytest

from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow


class Secrets(list[str]):
    def new(self, prefix: str) -> str:
        value = f"{prefix}-{secrets.token_hex(8)}"
        self.append(value)
        return value


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_no_secret_reaches_the_log(settings, log_format, figure):
    server = await ServerProcess(settings, CHATD_LOG_FORMAT=log_format).start()
    try:
        async with aiohttp.ClientSession() as session:
            used = await drive(Api(session, base_url=server.url), server, session)
    finally:
        assert server.stop() == 0, server.output()
    output = server.log_path.read_text(errors="replace")
    assert "POST /api/auth/login" in output and "GET /ws" in output  # the log is not empty
    found = [secret for secret in used if secret in output]
    figure(f"{log_format}: {len(found)} occurrences of {len(used)} secrets used")
    assert found == []


async def drive(api: Api, server: ServerProcess, session: aiohttp.ClientSession) -> Secrets:
    used = Secrets()
    password, wrong = used.new("pw"), used.new("wrong-pw")
    await api.register("alice", password)
    await api.register("bob", password)
    too_long_password = used.new("pw too long") + "x" * 80  # 422, as a password over 72 bytes
    carol = {"username": "carol", "password": too_long_password}
    assert (await api.call("POST", "/api/auth/register", json=carol))[0] == 422
    credentials = {"username": "alice", "password": wrong}
    assert (await api.call("POST", "/api/auth/login", json=credentials))[0] == 401
    credentials = {"username": "nobody", "password": used.new("nobody-pw")}
    assert (await api.call("POST", "/api/auth/login", json=credentials))[0] == 401
    pair = await api.login("alice", password)
    bob = (await api.login("bob", password))["access_token"]
    used += [pair["access_token"], pair["refresh_token"], bob]

    room_id = await api.create_room(pair["access_token"], used.new("room name"))
    await api.join(bob, room_id)
    await api.post(pair["access_token"], room_id, used.new("rest body"))
    too_long = used.new("too long") + "x" * 4001
    status, _ = await api.call(
        "POST",
        f"/api/rooms/{room_id}/messages",
        token=pair["access_token"],
        json={"body": too_long},
    )
    assert status == 422

    client = await WsClient.connect(server.url, bob, session=session)
    ack = await client.request({"type": "send_message", "room_id": room_id, "body": used.new("ws")})
    assert ack["type"] == "ack"
    refused = await client.request({"type": "send_message", "room_id": 999, "body": used.new("b")})
    assert refused["code"] == "room_not_found"
    renewal = (await api.login("bob", password))["access_token"]
    used.append(renewal)
    assert (await client.request({"type": "auth", "token": renewal}))["type"] == "ack"
    bad = used.new("eyJnot-a-real-token")
    assert (await client.request({"type": "auth", "token": bad}))["code"] == "invalid_token"
    await client.close()

    # Tokens where they do not belong: a bad bearer, a token in the query string.
    garbage = used.new("garbage-bearer")
    assert (await api.call("GET", "/api/me", token=garbage))[0] == 401
    status, _ = await api.call("GET", f"/api/me?access_token={pair['access_token']}")
    assert status == 401
    refused_socket = await WsClient.connect(server.url, session=session)
    await refused_socket.send({"type": "auth", "token": used.new("bad-ws-token")})
    assert await refused_socket.closed() == 4401

    status, renewed = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert status == 200
    used += [renewed["access_token"], renewed["refresh_token"]]
    status, _ = await api.call(  # reused: the family is revoked
        "POST", "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert status == 401
    status, _ = await api.call(
        "POST", "/api/auth/logout", json={"refresh_token": renewed["refresh_token"]}
    )
    assert status == 204  # already revoked with its family: logging out again changes nothing
    return used
