"""DMs, private rooms, roles, kicks, bans and invitations over HTTP: routes, shapes, statuses
and the documented error codes."""

import pytest


async def me(api, token: str) -> dict:
    return (await api.call("GET", "/api/me", token=token))[1]


async def code(api, method: str, path: str, token: str, json=None) -> tuple[int, str]:
    status, body = await api.call(method, path, token=token, json=json)
    return status, body["error"]["code"]


async def test_a_dm_is_created_once_listed_nowhere_and_joined_by_nobody(api, alice, bob):
    carol = await api.user_token("carol")
    bob_id = (await me(api, bob))["id"]
    status, room = await api.call("POST", "/api/dms", token=alice, json={"user_id": bob_id})
    assert status == 201
    assert (room["kind"], room["private"], room["name"], room["member_count"]) == (
        "dm",
        True,
        "alice & bob",
        2,
    )
    alice_id = (await me(api, alice))["id"]
    assert await api.call("POST", "/api/dms", token=bob, json={"user_id": alice_id}) == (200, room)
    for token in (alice, bob, carol):
        assert (await api.call("GET", "/api/rooms", token=token))[1] == {"rooms": []}
    rid = room["id"]
    assert await api.call("GET", f"/api/rooms/{rid}", token=bob) == (200, room)
    for method, path in (
        ("GET", f"/api/rooms/{rid}"),
        ("POST", f"/api/rooms/{rid}/join"),
        ("GET", f"/api/rooms/{rid}/messages"),
        ("GET", f"/api/rooms/{rid}/members"),
        ("POST", f"/api/rooms/{rid}/messages"),
    ):
        body = {"body": "hi"} if path.endswith("messages") and method == "POST" else None
        assert await code(api, method, path, carol, body) == (404, "room_not_found"), path
    assert await code(api, "POST", f"/api/rooms/{rid}/leave", bob) == (403, "direct_message_room")
    await api.post(bob, rid, "hello alice")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 422, "invalid_field"),
        ({"user_id": "2"}, 422, "invalid_field"),
        ({"user_id": True}, 422, "invalid_field"),
        ({"user_id": 0}, 422, "invalid_field"),
        ({"user_id": 2**63}, 422, "invalid_field"),
        ({"user_id": 9999}, 404, "user_not_found"),
    ],
)
async def test_a_dm_needs_a_user_id_of_another_user(api, alice, body, status, error):
    assert await code(api, "POST", "/api/dms", alice, body) == (status, error)


async def test_a_dm_with_oneself_is_refused(api, alice):
    alice_id = (await me(api, alice))["id"]
    assert await code(api, "POST", "/api/dms", alice, {"user_id": alice_id}) == (
        422,
        "dm_with_self",
    )


async def test_a_private_room_takes_an_invitation(api, alice, bob):
    status, room = await api.call(
        "POST", "/api/rooms", token=alice, json={"name": "secret", "private": True}
    )
    assert status == 201 and (room["private"], room["kind"]) == (True, "room")
    rid, bob_id = room["id"], (await me(api, bob))["id"]
    assert (await api.call("GET", "/api/rooms", token=bob))[1] == {"rooms": []}
    assert await code(api, "POST", f"/api/rooms/{rid}/join", bob) == (404, "room_not_found")
    status, invitation = await api.call(
        "POST", f"/api/rooms/{rid}/invitations", token=alice, json={"user_id": bob_id}
    )
    assert status == 201
    assert set(invitation) == {"room", "user", "invited_by", "created_at"}
    assert (invitation["room"]["id"], invitation["user"]["id"]) == (rid, bob_id)
    again = await api.call(
        "POST", f"/api/rooms/{rid}/invitations", token=alice, json={"user_id": bob_id}
    )
    assert again[0] == 200
    status, mine = await api.call("GET", "/api/me/invitations", token=bob)
    assert (status, [i["room"]["id"] for i in mine["invitations"]]) == (200, [rid])
    status, listed = await api.call("GET", f"/api/rooms/{rid}/invitations", token=alice)
    assert [i["user"]["id"] for i in listed["invitations"]] == [bob_id]
    assert await code(api, "GET", f"/api/rooms/{rid}/invitations", bob) == (403, "not_a_member")
    status, joined = await api.call("POST", f"/api/rooms/{rid}/join", token=bob)
    assert (status, joined["member_count"]) == (200, 2)
    assert (await api.call("GET", "/api/me/invitations", token=bob))[1] == {"invitations": []}
    assert await code(api, "POST", f"/api/rooms/{rid}/invitations", alice, {"user_id": bob_id}) == (
        409,
        "already_a_member",
    )


async def test_an_invitation_may_be_declined_or_withdrawn(api, alice, bob):
    _, room = await api.call("POST", "/api/rooms", token=alice, json={"name": "s", "private": True})
    rid, bob_id = room["id"], (await me(api, bob))["id"]
    for remover in (bob, alice):
        status, _ = await api.call(
            "POST", f"/api/rooms/{rid}/invitations", token=alice, json={"user_id": bob_id}
        )
        assert status == 201
        status, _ = await api.call(
            "DELETE", f"/api/rooms/{rid}/invitations/{bob_id}", token=remover
        )
        assert status == 204
    assert await code(api, "DELETE", f"/api/rooms/{rid}/invitations/{bob_id}", alice) == (
        404,
        "invitation_not_found",
    )


async def test_private_must_be_a_boolean(api, alice):
    status, body = await api.call(
        "POST", "/api/rooms", token=alice, json={"name": "x", "private": "yes"}
    )
    assert (status, body["error"]["code"]) == (422, "invalid_field")


async def test_roles_kick_ban_unban_with_their_system_messages(api, alice, bob, room):
    carol = await api.user_token("carol")
    rid = room["id"]
    bob_id, carol_id = (await me(api, bob))["id"], (await me(api, carol))["id"]
    for token in (bob, carol):
        await api.join(token, rid)

    status, member = await api.call(
        "POST", f"/api/rooms/{rid}/members/{bob_id}/role", token=alice, json={"role": "moderator"}
    )
    assert (status, member["role"], member["user"]["id"]) == (200, "moderator", bob_id)
    _, members = await api.call("GET", f"/api/rooms/{rid}/members", token=carol)
    assert [m["role"] for m in members["members"]] == ["owner", "moderator", "member"]
    assert await code(
        api, "POST", f"/api/rooms/{rid}/members/{carol_id}/role", bob, {"role": "moderator"}
    ) == (403, "not_the_owner")
    assert await code(
        api, "POST", f"/api/rooms/{rid}/members/{carol_id}/role", alice, {"role": "owner"}
    ) == (422, "invalid_role")
    assert await code(api, "POST", f"/api/rooms/{rid}/kick", carol, {"user_id": bob_id}) == (
        403,
        "not_a_moderator",
    )

    assert (
        await api.call("POST", f"/api/rooms/{rid}/kick", token=bob, json={"user_id": carol_id})
    )[0] == 204
    await api.join(carol, rid)  # a kick is no ban
    status, ban = await api.call(
        "POST", f"/api/rooms/{rid}/bans", token=bob, json={"user_id": carol_id}
    )
    assert status == 201 and set(ban) == {"user", "banned_by", "created_at"}
    assert (ban["user"]["id"], ban["banned_by"]["id"]) == (carol_id, bob_id)
    again = await api.call("POST", f"/api/rooms/{rid}/bans", token=bob, json={"user_id": carol_id})
    assert again == (200, ban)
    assert await code(api, "POST", f"/api/rooms/{rid}/join", carol) == (403, "banned")
    assert await code(api, "GET", f"/api/rooms/{rid}/messages", carol) == (403, "not_a_member")
    _, bans = await api.call("GET", f"/api/rooms/{rid}/bans", token=bob)
    assert [b["user"]["id"] for b in bans["bans"]] == [carol_id]
    assert (await api.call("DELETE", f"/api/rooms/{rid}/bans/{carol_id}", token=alice))[0] == 204
    assert await code(api, "DELETE", f"/api/rooms/{rid}/bans/{carol_id}", alice) == (
        404,
        "ban_not_found",
    )
    await api.join(carol, rid)

    _, history = await api.call("GET", f"/api/rooms/{rid}/messages", token=alice)
    assert [(m["seq"], m["kind"], m["body"]) for m in history["messages"]] == [
        (1, "system", "bob joined"),
        (2, "system", "carol joined"),
        (3, "system", "bob is now a moderator"),
        (4, "system", "carol was kicked"),
        (5, "system", "carol joined"),
        (6, "system", "carol was banned"),
        (7, "system", "carol was unbanned"),
        (8, "system", "carol joined"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/rooms/{rid}/kick", {"user_id": "x"}),
        ("POST", "/api/rooms/{rid}/bans", {}),
        ("POST", "/api/rooms/{rid}/invitations", {"user_id": -1}),
        ("POST", "/api/rooms/{rid}/members/{uid}/role", {"role": 3}),
        ("POST", "/api/rooms/{rid}/members/{uid}/role", {}),
    ],
)
async def test_bad_fields_are_422(api, alice, room, method, path, body):
    alice_id = (await me(api, alice))["id"]
    url = path.format(rid=room["id"], uid=alice_id)
    assert await code(api, method, url, alice, body) == (422, "invalid_field")


async def test_bad_paths_and_bodies_are_documented_errors(api, alice, room):
    rid = room["id"]
    assert await code(api, "DELETE", f"/api/rooms/{rid}/bans/abc", alice) == (422, "invalid_path")
    assert await code(
        api, "POST", f"/api/rooms/{rid}/members/0/role", alice, {"role": "member"}
    ) == (
        422,
        "invalid_path",
    )
    status, body = await api.call("POST", f"/api/rooms/{rid}/kick", token=alice, data=b"not json")
    assert (status, body["error"]["code"]) == (400, "malformed_json")
    assert await code(api, "POST", "/api/rooms/999/kick", alice, {"user_id": 1}) == (
        404,
        "room_not_found",
    )
    status, body = await api.call("POST", "/api/dms", json={"user_id": 1})
    assert (status, body["error"]["code"]) == (401, "not_authenticated")
