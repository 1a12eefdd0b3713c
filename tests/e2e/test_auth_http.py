"""Every auth route of CONTRACT.md over HTTP, including the token attack matrix."""

import base64
import dataclasses
import io
import json
import time
import uuid

import jwt
import pytest

from chatd.app import create_app
from tests.conftest import TEST_SECRET
from tests.support import Api


def forge(claims: dict, *, key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {"sub": "1", "typ": "access", "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def unsigned(payload: dict) -> str:
    """A token with alg 'none' and no signature."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


async def test_register_login_me_refresh_logout(api):
    user = await api.register("alice")
    assert set(user) == {"id", "username", "created_at"} and user["username"] == "alice"
    pair = await api.login("alice")
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}

    assert await api.call("GET", "/api/me", token=pair["access_token"]) == (200, user)

    status, renewed = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert status == 200 and renewed["refresh_token"] != pair["refresh_token"]
    assert (await api.call("GET", "/api/me", token=renewed["access_token"]))[0] == 200

    status, body = await api.call(
        "POST", "/api/auth/logout", json={"refresh_token": renewed["refresh_token"]}
    )
    assert (status, body) == (204, None)
    status, body = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": renewed["refresh_token"]}
    )
    assert status == 401 and body["error"]["code"] == "token_revoked"


async def test_username_taken_in_any_case(api):
    await api.register("alice")
    status, body = await api.call(
        "POST", "/api/auth/register", json={"username": "Alice", "password": "correct horse"}
    )
    assert status == 409 and body["error"]["code"] == "username_taken"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"username": "al", "password": "correct horse"}, 422, "invalid_username"),
        ({"username": "a" * 33, "password": "correct horse"}, 422, "invalid_username"),
        ({"username": "<script>", "password": "correct horse"}, 422, "invalid_username"),
        ({"username": "alice", "password": "short"}, 422, "invalid_password"),
        ({"username": "alice", "password": "x" * 73}, 422, "invalid_password"),
        ({"username": "alice", "password": "ü" * 40}, 422, "invalid_password"),
        ({"username": "alice", "password": "lone \ud800 surrogate"}, 422, "invalid_password"),
        ({"username": "nul\u0000", "password": "correct horse"}, 422, "invalid_username"),
        ({"username": "alice"}, 422, "invalid_field"),
        ({"username": 42, "password": "correct horse"}, 422, "invalid_field"),
        ({"username": "alice", "password": ["correct horse"]}, 422, "invalid_field"),
        ([], 400, "expected_object"),
        ("alice", 400, "expected_object"),
    ],
)
async def test_register_validation(api, payload, status, code):
    got_status, body = await api.call("POST", "/api/auth/register", json=payload)
    assert (got_status, body["error"]["code"]) == (status, code)
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


async def test_unknown_user_and_wrong_password_get_the_same_answer(api):
    await api.register("alice")
    wrong = await api.call(
        "POST", "/api/auth/login", json={"username": "alice", "password": "wrong password"}
    )
    unknown = await api.call(
        "POST", "/api/auth/login", json={"username": "nobody", "password": "wrong password"}
    )
    assert wrong == unknown
    assert wrong[0] == 401 and wrong[1]["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "malformed_json"),
        (b"\xff\xfe", {}, 400, "malformed_json"),
        (b"", {}, 400, "malformed_json"),
        (b"null", {}, 400, "expected_object"),
        (b'{"username": "a"' + b" " * (1024 * 1024) + b"}", {}, 413, "body_too_large"),
    ],
)
async def test_malformed_and_oversized_bodies(api, body, headers, status, code):
    data = io.BytesIO(body)
    async with api.client.post("/api/auth/login", data=data, headers=headers) as response:
        assert response.status == status
        assert (await response.json())["error"]["code"] == code


async def test_unknown_route_and_wrong_method_are_json(api):
    status, body = await api.call("GET", "/api/nothing-here")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await api.call("GET", "/api/auth/login")
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")


async def test_wrong_method_says_which_methods_the_route_takes(api):
    """Found by schemathesis: the JSON 405 had lost aiohttp's Allow header."""
    async with api.client.request("TRACE", "/api/rooms") as response:
        assert response.status == 405
        allowed = {method.strip() for method in response.headers["Allow"].split(",")}
        assert allowed == {"GET", "HEAD", "POST"}
        assert (await response.json())["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer not.a.jwt"],
)
async def test_me_without_a_usable_bearer(api, header):
    async with api.client.get("/api/me", headers={"Authorization": header}) as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] in {"not_authenticated", "invalid_token"}


ACCESS_ATTACKS = {
    "alg none": lambda uid: unsigned(claims(sub=uid)),
    "wrong algorithm HS512": lambda uid: forge(claims(sub=uid), algorithm="HS512"),
    "bad signature": lambda uid: forge(claims(sub=uid), key="another-secret-" + "x" * 64),
    "missing exp": lambda uid: forge(claims(sub=uid, exp=None)),
    "missing iat": lambda uid: forge(claims(sub=uid, iat=None)),
    "missing sub": lambda uid: forge(claims(sub=None)),
    "missing jti": lambda uid: forge(claims(sub=uid, jti=None)),
    "missing typ": lambda uid: forge(claims(sub=uid, typ=None)),
    "non-numeric sub": lambda uid: forge(claims(sub="admin")),
    "expired": lambda uid: forge(
        claims(sub=uid, iat=int(time.time()) - 999, exp=int(time.time()) - 60)
    ),
    "refresh used as access": lambda uid: forge(
        claims(sub=uid, typ="refresh", fam=str(uuid.uuid4()))
    ),
}


@pytest.mark.parametrize("attack", list(ACCESS_ATTACKS))
async def test_access_token_attacks(api, attack):
    user = await api.register("alice")
    token = ACCESS_ATTACKS[attack](str(user["id"]))
    status, body = await api.call("GET", "/api/me", token=token)
    assert status == 401, body
    expected = "token_expired" if attack == "expired" else "invalid_token"
    assert body["error"]["code"] == expected
    # The same claims signed properly do work: the attack, not the setup, is what fails.
    assert (await api.call("GET", "/api/me", token=forge(claims(sub=str(user["id"])))))[0] == 200


async def test_real_refresh_token_is_not_an_access_token(api):
    await api.register("alice")
    pair = await api.login("alice")
    status, body = await api.call("GET", "/api/me", token=pair["refresh_token"])
    assert status == 401 and body["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda pair: pair["access_token"], id="access used as refresh"),
        pytest.param(lambda pair: "garbage", id="garbage"),
        pytest.param(
            lambda pair: forge(claims(sub="1", typ="refresh", fam=str(uuid.uuid4()))),
            id="well signed but never issued",
        ),
        pytest.param(
            lambda pair: unsigned(claims(sub="1", typ="refresh", fam=str(uuid.uuid4()))),
            id="alg none refresh",
        ),
    ],
)
async def test_refresh_token_attacks(api, make_token):
    await api.register("alice")
    pair = await api.login("alice")
    status, body = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": make_token(pair)}
    )
    assert status == 401 and body["error"]["code"] == "invalid_token"


async def test_replayed_refresh_token_revokes_the_whole_family(api):
    await api.register("alice")
    first = await api.login("alice")
    other_login = await api.login("alice")
    status, second = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert status == 200
    status, body = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert status == 401 and body["error"]["code"] == "token_reused"
    status, body = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert status == 401 and body["error"]["code"] == "token_revoked"
    # A separate login is another family and keeps working.
    status, _ = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": other_login["refresh_token"]}
    )
    assert status == 200


async def test_logout_with_a_bad_token_is_refused(api):
    status, body = await api.call("POST", "/api/auth/logout", json={"refresh_token": "nope"})
    assert status == 401 and body["error"]["code"] == "invalid_token"


async def test_failed_logins_are_rate_limited_with_retry_after(settings, aiohttp_client):
    api = Api(await aiohttp_client(create_app(dataclasses.replace(settings, login_rate=3))))
    await api.register("alice")
    wrong = {"username": "alice", "password": "wrong password"}
    for _ in range(3):
        assert (await api.call("POST", "/api/auth/login", json=wrong))[0] == 401
    right = {"username": "alice", "password": "correct horse"}
    async with api.client.post("/api/auth/login", json=right) as response:
        assert response.status == 429
        assert 0 < int(response.headers["Retry-After"]) <= 900
        assert (await response.json())["error"]["code"] == "rate_limited"
