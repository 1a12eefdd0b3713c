"""Moderation: roles, kicks, bans and invitations. The store judges each change under the
room's lock (chatd.domain.permissions); what changed is published after the commit, on the
path a leave takes: the system message, then MemberLeft, on which every socket of the removed
user, on every process, stops streaming the room."""

from chatd.application.ports import EventBus, ModerationRepo
from chatd.domain.events import MemberLeft, MessagePosted
from chatd.domain.model import Ban, Invitation, Standing, User


class Moderation:
    def __init__(self, *, moderation: ModerationRepo, bus: EventBus) -> None:
        self._store = moderation
        self._bus = bus

    async def set_role(self, *, room_id: int, actor: User, user_id: int, role: str) -> Standing:
        """Idempotent: setting the role a member has changes nothing and posts nothing."""
        target, message = await self._store.set_role(
            room_id=room_id, actor_id=actor.id, target_id=user_id, role=role
        )
        if message is not None:
            await self._bus.publish(MessagePosted(message))
        return target

    async def kick(self, *, room_id: int, actor: User, user_id: int) -> None:
        user, message = await self._store.kick(
            room_id=room_id, actor_id=actor.id, target_id=user_id
        )
        await self._bus.publish(MessagePosted(message))
        await self._bus.publish(MemberLeft(room_id=room_id, user=user))

    async def ban(self, *, room_id: int, actor: User, user_id: int) -> tuple[Ban, bool]:
        """The ban and whether this call made it (a repeat changes nothing)."""
        ban, message, was_member = await self._store.ban(
            room_id=room_id, actor_id=actor.id, target_id=user_id
        )
        if message is not None:
            await self._bus.publish(MessagePosted(message))
        if was_member:
            await self._bus.publish(MemberLeft(room_id=room_id, user=ban.user))
        return ban, message is not None

    async def unban(self, *, room_id: int, actor: User, user_id: int) -> None:
        _, message = await self._store.unban(room_id=room_id, actor_id=actor.id, target_id=user_id)
        await self._bus.publish(MessagePosted(message))

    async def bans(self, *, room_id: int, viewer: User) -> list[Ban]:
        return await self._store.bans(room_id=room_id, viewer_id=viewer.id)

    async def invite(self, *, room_id: int, actor: User, user_id: int) -> tuple[Invitation, bool]:
        """The invitation and whether this call made it. Nothing is posted: invitations are
        between the moderators and the invited."""
        return await self._store.invite(room_id=room_id, actor_id=actor.id, target_id=user_id)

    async def invitations(self, *, room_id: int, viewer: User) -> list[Invitation]:
        return await self._store.invitations(room_id=room_id, viewer_id=viewer.id)

    async def revoke(self, *, room_id: int, actor: User, user_id: int) -> None:
        await self._store.revoke(room_id=room_id, actor_id=actor.id, target_id=user_id)

    async def invitations_of(self, *, user: User) -> list[Invitation]:
        return await self._store.invitations_of(user.id)
