"""chatd.domain.permissions: who may see, join and moderate a room, as pure rules."""

import pytest

from chatd.domain import permissions
from chatd.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from chatd.domain.model import Room, Standing, User
from tests.fakes import ALICE, BOB, EPOCH

CAROL = User(id=3, username="carol", created_at=EPOCH)
PUBLIC = Room(1, "general", "", ALICE.id, EPOCH, 3)
PRIVATE = Room(2, "secret", "", ALICE.id, EPOCH, 3, private=True)
DM = Room(3, "alice & bob", "", ALICE.id, EPOCH, 2, kind="dm", private=True)


def stand(user: User, role=None, *, invited=False, banned=False) -> Standing:
    return Standing(user, role, invited=invited, banned=banned)


def refusal(check, *args) -> tuple[type[DomainError], str] | None:
    try:
        check(*args)
    except DomainError as error:
        return type(error), error.code
    return None


HIDDEN = (NotFound, "room_not_found")


@pytest.mark.parametrize(
    ("room", "standing", "seen"),
    [
        (PUBLIC, stand(BOB), True),
        (PRIVATE, stand(BOB), False),
        (PRIVATE, stand(BOB, invited=True), True),
        (PRIVATE, stand(BOB, "member"), True),
        (PRIVATE, stand(ALICE), True),  # the owner, having left
        (DM, stand(CAROL), False),
        (DM, stand(CAROL, invited=True), False),  # (no invitation to a DM can exist)
        (DM, stand(BOB, "member"), True),
    ],
)
def test_who_sees_a_room(room, standing, seen):
    assert permissions.can_see(room, standing) is seen
    assert refusal(permissions.check_visible, room, standing) == (None if seen else HIDDEN)


@pytest.mark.parametrize(
    ("room", "standing", "refused"),
    [
        (PUBLIC, stand(BOB), None),
        (PUBLIC, stand(BOB, "member"), None),  # already in: nothing to refuse
        (PUBLIC, stand(BOB, banned=True), (Forbidden, "banned")),
        (PRIVATE, stand(BOB), HIDDEN),
        (PRIVATE, stand(BOB, invited=True), None),
        (PRIVATE, stand(ALICE), None),
        (PRIVATE, stand(BOB, banned=True), (Forbidden, "banned")),
        (DM, stand(CAROL), HIDDEN),
        (DM, stand(CAROL, banned=True), HIDDEN),
        (DM, stand(BOB, "member"), None),
    ],
)
def test_who_may_join(room, standing, refused):
    assert refusal(permissions.check_join, room, standing) == refused


def test_a_dm_cannot_be_left_a_room_can():
    assert refusal(permissions.check_leave, DM) == (Forbidden, "direct_message_room")
    assert refusal(permissions.check_leave, PUBLIC) is None


OWNER = stand(ALICE, "owner")
MOD = stand(BOB, "moderator")
MEMBER = stand(CAROL, "member")
OUTSIDER = stand(CAROL)


@pytest.mark.parametrize(
    ("actor", "target", "refused"),
    [
        (OWNER, MOD, None),
        (OWNER, MEMBER, None),
        (MOD, MEMBER, None),
        (MOD, OWNER, (Forbidden, "outranked")),
        (MOD, stand(CAROL, "moderator"), (Forbidden, "outranked")),
        (MEMBER, stand(BOB, "member"), (Forbidden, "not_a_moderator")),
        (OWNER, OWNER, (Forbidden, "cannot_moderate_self")),
        (MOD, MOD, (Forbidden, "cannot_moderate_self")),
        (OUTSIDER, MEMBER, (Forbidden, "not_a_member")),
    ],
)
def test_who_may_ban_whom(actor, target, refused):
    assert refusal(permissions.check_ban, PUBLIC, actor, target) == refused
    assert refusal(permissions.check_kick, PUBLIC, actor, target) == refused


def test_kick_needs_a_member_ban_any_user():
    assert refusal(permissions.check_kick, PUBLIC, OWNER, OUTSIDER) == (
        NotFound,
        "member_not_found",
    )
    assert refusal(permissions.check_kick, PUBLIC, OWNER, None) == (NotFound, "member_not_found")
    assert refusal(permissions.check_ban, PUBLIC, OWNER, OUTSIDER) is None
    assert refusal(permissions.check_ban, PUBLIC, OWNER, None) == (NotFound, "user_not_found")
    # The owner may never be banned, even while out of the room.
    assert refusal(permissions.check_ban, PUBLIC, MOD, stand(ALICE)) == (Forbidden, "outranked")


def test_unban_needs_a_ban():
    assert refusal(permissions.check_unban, PUBLIC, MOD, stand(CAROL, banned=True)) is None
    assert refusal(permissions.check_unban, PUBLIC, MOD, OUTSIDER) == (NotFound, "ban_not_found")
    assert refusal(permissions.check_unban, PUBLIC, MEMBER, OUTSIDER) == (
        Forbidden,
        "not_a_moderator",
    )


def test_private_rooms_hide_moderation_from_outsiders():
    assert refusal(permissions.check_moderator, PRIVATE, OUTSIDER) == HIDDEN
    assert refusal(permissions.check_moderator, DM, stand(CAROL)) == HIDDEN


def test_direct_message_rooms_have_no_moderation():
    bob = stand(BOB, "member")
    for check in (permissions.check_moderator, permissions.check_owner):
        assert refusal(check, DM, bob) == (Forbidden, "direct_message_room")
    assert refusal(permissions.check_invite, DM, bob, OUTSIDER) == (
        Forbidden,
        "direct_message_room",
    )


@pytest.mark.parametrize(
    ("actor", "target", "role", "refused"),
    [
        (OWNER, MEMBER, "moderator", None),
        (OWNER, MOD, "member", None),
        (OWNER, MEMBER, "member", None),  # no change, no refusal
        (OWNER, MEMBER, "owner", (InvalidInput, "invalid_role")),
        (OWNER, MEMBER, "admin", (InvalidInput, "invalid_role")),
        (OWNER, OWNER, "member", (Forbidden, "cannot_moderate_self")),
        (OWNER, OUTSIDER, "moderator", (NotFound, "member_not_found")),
        (MOD, MEMBER, "moderator", (Forbidden, "not_the_owner")),
    ],
)
def test_only_the_owner_sets_roles(actor, target, role, refused):
    assert refusal(permissions.check_role_change, PUBLIC, actor, target, role) == refused


@pytest.mark.parametrize(
    ("actor", "target", "refused"),
    [
        (MOD, OUTSIDER, None),
        (OWNER, stand(CAROL, invited=True), None),  # again: allowed, nothing new
        (MEMBER, stand(BOB), (Forbidden, "not_a_moderator")),
        (OWNER, MEMBER, (Conflict, "already_a_member")),
        (OWNER, stand(CAROL, banned=True), (Conflict, "user_banned")),
        (OWNER, None, (NotFound, "user_not_found")),
    ],
)
def test_who_may_invite_whom(actor, target, refused):
    assert refusal(permissions.check_invite, PRIVATE, actor, target) == refused


def test_an_invitation_is_withdrawn_by_a_moderator_or_declined_by_its_user():
    invited = stand(CAROL, invited=True)
    assert refusal(permissions.check_revoke, PRIVATE, MOD, invited) is None
    assert refusal(permissions.check_revoke, PRIVATE, invited, invited) is None
    assert refusal(permissions.check_revoke, PRIVATE, stand(BOB, "member"), invited) == (
        Forbidden,
        "not_a_moderator",
    )
    assert refusal(permissions.check_revoke, PRIVATE, MOD, OUTSIDER) == (
        NotFound,
        "invitation_not_found",
    )
    assert refusal(permissions.check_revoke, PRIVATE, OUTSIDER, OUTSIDER) == HIDDEN
