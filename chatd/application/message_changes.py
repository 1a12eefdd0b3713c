"""Editing and deleting messages: each change is decided by the rules of
chatd/domain/message_rules.py, stored with the room's next seq (the store re-checks the same
conditions atomically) and published with that seq, like a message."""

from chatd.application.ports import Clock, EventBus, MessageChangeRepo, RateLimiter
from chatd.domain.errors import Conflict, RateLimited
from chatd.domain.events import MessageDeleted, MessageEdited
from chatd.domain.message_rules import Authority, ChangePolicy, check_edit, delete_authority
from chatd.domain.model import User
from chatd.domain.rules import check_body

ATTEMPTS = 3  # decisions made again when the message changed between the read and the write


class MessageChanges:
    def __init__(
        self,
        *,
        changes: MessageChangeRepo,
        bus: EventBus,
        sends: RateLimiter,
        clock: Clock,
        policy: ChangePolicy,
    ) -> None:
        self._changes = changes
        self._bus = bus
        self._sends = sends  # per user, shared with posting: an edit or delete counts as a send
        self._clock = clock
        self._policy = policy

    async def edit(self, *, room_id: int, seq: int, editor: User, body: str) -> MessageEdited:
        body = check_body(body)
        await self._count(editor)
        for _ in range(ATTEMPTS):
            target = await self._changes.target(room_id=room_id, seq=seq, actor_id=editor.id)
            now = self._clock.now()
            check_edit(
                target, room_id=room_id, seq=seq, editor_id=editor.id, now=now, policy=self._policy
            )
            window = self._policy.edit_window
            edited = await self._changes.edit(
                room_id=room_id,
                seq=seq,
                editor_id=editor.id,
                body=body,
                not_before=None if window is None else now - window,
            )
            if edited is not None:
                await self._bus.publish(edited)
                return edited
        raise Conflict("the message kept changing; try again", code="message_changed")

    async def delete(self, *, room_id: int, seq: int, actor: User) -> MessageDeleted | None:
        """The delete event; None if the message was deleted already (nothing changes)."""
        await self._count(actor)
        for _ in range(ATTEMPTS):
            target = await self._changes.target(room_id=room_id, seq=seq, actor_id=actor.id)
            authority = delete_authority(
                target, room_id=room_id, seq=seq, actor_id=actor.id, policy=self._policy
            )
            if authority is None:
                return None
            deleted = await self._changes.delete(
                room_id=room_id,
                seq=seq,
                actor_id=actor.id,
                as_moderator=authority is Authority.MODERATOR,
            )
            if deleted is not None:
                await self._bus.publish(deleted)
                return deleted
        raise Conflict("the message kept changing; try again", code="message_changed")

    async def _count(self, user: User) -> None:
        if retry_after := await self._sends.acquire(f"send:{user.id}"):
            raise RateLimited("too many messages; slow down", retry_after=retry_after)
