"""Who may see, join and moderate a room: pure rules over a room and users' standings in it.

The stores apply them inside the transaction that acts (under the room row's lock), so a rule
is judged on the state the change is made to. Each refusal is a domain error with its code.
"""

from chatd.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chatd.domain.model import Role, Room, Standing

RANK: dict[Role, int] = {"member": 0, "moderator": 1, "owner": 2}
ASSIGNABLE_ROLES: frozenset[str] = frozenset({"moderator", "member"})


def hidden(room_id: int) -> NotFound:
    """What an outsider is told of a room they may not see: the same as of no room at all."""
    return NotFound(f"there is no room {room_id}", code="room_not_found")


def can_see(room: Room, standing: Standing) -> bool:
    """Public rooms: everyone. Private rooms: members, the owner, the invited. DMs: the two."""
    if standing.role is not None:
        return True
    if room.kind == "dm":
        return False
    return not room.private or standing.invited or room.owner_id == standing.user.id


def check_visible(room: Room, standing: Standing) -> None:
    if not can_see(room, standing):
        raise hidden(room.id)


def check_member(room: Room, standing: Standing) -> None:
    """404 for a room the user may not see, 403 for one they see but are not in."""
    check_visible(room, standing)
    if standing.role is None:
        raise Forbidden("only members of the room may do this", code="not_a_member")


def check_join(room: Room, standing: Standing) -> None:
    """Raises unless the user may become a member now (a member already may: nothing changes).
    A private room's owner may always come back; anyone else needs an invitation."""
    if standing.role is not None:
        return
    if standing.banned and room.kind == "room":  # they know of the room: say why
        raise Forbidden("you are banned from this room", code="banned")
    check_visible(room, standing)


def check_leave(room: Room) -> None:
    if room.kind == "dm":
        raise Forbidden("a direct-message room cannot be left", code="direct_message_room")


def check_moderator(room: Room, actor: Standing) -> None:
    """The actor is an owner or moderator of a room (never of a DM)."""
    check_member(room, actor)
    _not_a_dm(room)
    if RANK[actor.role] < RANK["moderator"]:
        raise Forbidden("only the owner or a moderator may do this", code="not_a_moderator")


def check_owner(room: Room, actor: Standing) -> None:
    check_member(room, actor)
    _not_a_dm(room)
    if actor.role != "owner":
        raise Forbidden("only the room's owner may do this", code="not_the_owner")


def check_kick(room: Room, actor: Standing, target: Standing | None) -> Standing:
    """A moderator removes a member below their rank."""
    check_moderator(room, actor)
    if target is None or target.role is None:
        raise NotFound("that user is not a member of the room", code="member_not_found")
    _check_outranks(room, actor, target)
    return target


def check_ban(room: Room, actor: Standing, target: Standing | None) -> Standing:
    """A moderator bans a user below their rank, member or not (the owner never)."""
    check_moderator(room, actor)
    if target is None:
        raise NotFound("there is no such user", code="user_not_found")
    _check_outranks(room, actor, target)
    return target


def check_unban(room: Room, actor: Standing, target: Standing | None) -> Standing:
    check_moderator(room, actor)
    if target is None or not target.banned:
        raise NotFound("that user is not banned from the room", code="ban_not_found")
    return target


def check_role_change(room: Room, actor: Standing, target: Standing | None, role: str) -> Standing:
    """The owner makes a member a moderator, or a moderator a member again."""
    check_owner(room, actor)
    if role not in ASSIGNABLE_ROLES:
        raise InvalidInput("role must be 'moderator' or 'member'", code="invalid_role")
    if target is None or target.role is None:
        raise NotFound("that user is not a member of the room", code="member_not_found")
    if target.user.id == actor.user.id:
        raise Forbidden("the owner's role cannot be changed", code="cannot_moderate_self")
    return target


def role_note(username: str, role: str) -> str:
    """The system message of a role change."""
    if role == "moderator":
        return f"{username} is now a moderator"
    return f"{username} is no longer a moderator"


def check_invite(room: Room, actor: Standing, target: Standing | None) -> Standing:
    check_moderator(room, actor)
    if target is None:
        raise NotFound("there is no such user", code="user_not_found")
    if target.role is not None:
        raise Conflict("that user is a member already", code="already_a_member")
    if target.banned:
        raise Conflict("that user is banned from the room; unban first", code="user_banned")
    return target


def check_revoke(room: Room, actor: Standing, target: Standing | None) -> Standing:
    """A moderator withdraws an invitation, or its user declines it."""
    declining = target is not None and target.user.id == actor.user.id
    if declining:
        check_visible(room, actor)
    else:
        check_moderator(room, actor)
    if target is None or not target.invited:
        raise NotFound("there is no such invitation", code="invitation_not_found")
    return target


def _not_a_dm(room: Room) -> None:
    if room.kind == "dm":
        raise Forbidden("direct-message rooms have no moderation", code="direct_message_room")


def _check_outranks(room: Room, actor: Standing, target: Standing) -> None:
    if target.user.id == actor.user.id:
        raise Forbidden("you cannot do this to yourself", code="cannot_moderate_self")
    if _rank(room, target) >= _rank(room, actor):
        raise Forbidden("that user's role is not below yours", code="outranked")


def _rank(room: Room, standing: Standing) -> int:
    if standing.user.id == room.owner_id:
        return RANK["owner"]  # in the room or not
    return RANK[standing.role] if standing.role is not None else RANK["member"]
