"""Who may edit or delete a message, and when. Each check raises the documented error or
returns; the store re-checks the same conditions atomically when it makes the change."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chatd.domain.errors import Conflict, Forbidden, NotFound

MODERATING_ROLES = frozenset({"owner", "moderator"})


@dataclass(frozen=True, slots=True)
class ChangePolicy:
    """The settings: how long after posting its author may edit a message (None: always), and
    whether a room's owners and moderators may delete anyone's message in it."""

    edit_window: timedelta | None = timedelta(hours=1)
    moderators_delete: bool = True


@dataclass(frozen=True, slots=True)
class ChangeTarget:
    """What deciding a change needs, read together: the room, the actor's part in it, and what
    is stored at the seq."""

    room_exists: bool
    role: str | None  # the actor's role in the room; None: not a member
    kind: str | None  # 'user', 'system', 'edit', 'delete'; None: nothing at that seq
    author_id: int | None
    created_at: datetime | None
    deleted: bool


class Authority(StrEnum):
    AUTHOR = "author"  # their own message
    MODERATOR = "moderator"  # anyone's, as the room's owner or a moderator


def check_edit(
    target: ChangeTarget,
    *,
    room_id: int,
    seq: int,
    editor_id: int,
    now: datetime,
    policy: ChangePolicy,
) -> None:
    _check_message(target, room_id=room_id, seq=seq)
    if target.author_id != editor_id:
        raise Forbidden("only its author may edit a message", code="not_your_message")
    if target.deleted:
        raise Conflict(f"message {seq} was deleted", code="message_deleted")
    window = policy.edit_window
    if window is not None and target.created_at is not None and target.created_at < now - window:
        raise Forbidden(
            f"messages can be edited for {int(window.total_seconds())} s after posting",
            code="edit_window_closed",
        )


def delete_authority(
    target: ChangeTarget, *, room_id: int, seq: int, actor_id: int, policy: ChangePolicy
) -> Authority | None:
    """On what authority the actor deletes the message; None if it is deleted already."""
    _check_message(target, room_id=room_id, seq=seq)
    if target.author_id != actor_id and not (
        policy.moderators_delete and target.role in MODERATING_ROLES
    ):
        raise Forbidden(
            "only its author, or the room's owner or a moderator, may delete a message",
            code="not_your_message",
        )
    if target.deleted:
        return None
    return Authority.AUTHOR if target.author_id == actor_id else Authority.MODERATOR


def _check_message(target: ChangeTarget, *, room_id: int, seq: int) -> None:
    if not target.room_exists:
        raise NotFound(f"there is no room {room_id}", code="room_not_found")
    if target.role is None:
        raise Forbidden("only members of the room may do this", code="not_a_member")
    if target.kind not in {"user", "system"}:
        raise NotFound(f"there is no message {seq} in room {room_id}", code="message_not_found")
    if target.kind == "system":
        raise Forbidden(
            "system messages cannot be edited or deleted", code="system_message_immutable"
        )
