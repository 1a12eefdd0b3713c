"""Fakes of the moderation and direct-message ports, on a FakeRoomRepo's store. They judge with
chatd.domain.permissions, as the PostgreSQL adapters do inside their transactions."""

from dataclasses import replace

from chatd.domain import permissions
from chatd.domain.errors import NotFound
from chatd.domain.model import Ban, Invitation, Member, Message, Room, Standing, User
from tests.fake_rooms import FakeRoomRepo
from tests.fakes import EPOCH


class FakeModerationRepo:
    def __init__(self, store: FakeRoomRepo) -> None:
        self.store = store

    async def set_role(
        self, *, room_id: int, actor_id: int, target_id: int, role: str
    ) -> tuple[Standing, Message | None]:
        room, actor, target = await self._standings(room_id, actor_id, target_id)
        target = permissions.check_role_change(room, actor, target, role)
        if target.role == role:
            return target, None
        self.store.memberships[room_id][target_id] = Member(target.user, role, EPOCH)
        note = permissions.role_note(target.user.username, role)
        return replace(target, role=role), self._system(room_id, note)

    async def kick(self, *, room_id: int, actor_id: int, target_id: int) -> tuple[User, Message]:
        room, actor, target = await self._standings(room_id, actor_id, target_id)
        target = permissions.check_kick(room, actor, target)
        del self.store.memberships[room_id][target_id]
        return target.user, self._system(room_id, f"{target.user.username} was kicked")

    async def ban(
        self, *, room_id: int, actor_id: int, target_id: int
    ) -> tuple[Ban, Message | None, bool]:
        room, actor, target = await self._standings(room_id, actor_id, target_id)
        target = permissions.check_ban(room, actor, target)
        bans = self.store.bans.setdefault(room_id, {})
        if target.banned:
            user, by = bans[target_id]
            return Ban(user, by, EPOCH), None, False
        bans[target_id] = (target.user, actor.user)
        self.store.invitations.get(room_id, {}).pop(target_id, None)
        self.store.memberships[room_id].pop(target_id, None)
        message = self._system(room_id, f"{target.user.username} was banned")
        return Ban(target.user, actor.user, EPOCH), message, target.role is not None

    async def unban(self, *, room_id: int, actor_id: int, target_id: int) -> tuple[User, Message]:
        room, actor, target = await self._standings(room_id, actor_id, target_id)
        target = permissions.check_unban(room, actor, target)
        del self.store.bans[room_id][target_id]
        return target.user, self._system(room_id, f"{target.user.username} was unbanned")

    async def bans(self, *, room_id: int, viewer_id: int) -> list[Ban]:
        room, viewer, _ = await self._standings(room_id, viewer_id, viewer_id)
        permissions.check_moderator(room, viewer)
        return [Ban(u, by, EPOCH) for u, by in self.store.bans.get(room_id, {}).values()]

    async def invite(
        self, *, room_id: int, actor_id: int, target_id: int
    ) -> tuple[Invitation, bool]:
        room, actor, target = await self._standings(room_id, actor_id, target_id)
        target = permissions.check_invite(room, actor, target)
        invited = self.store.invitations.setdefault(room_id, {})
        invited.setdefault(target_id, (target.user, actor.user))
        user, by = invited[target_id]
        return Invitation(await self.store.get(room_id), user, by, EPOCH), not target.invited

    async def invitations(self, *, room_id: int, viewer_id: int) -> list[Invitation]:
        room, viewer, _ = await self._standings(room_id, viewer_id, viewer_id)
        permissions.check_moderator(room, viewer)
        invited = self.store.invitations.get(room_id, {}).values()
        return [Invitation(room, user, by, EPOCH) for user, by in invited]

    async def revoke(self, *, room_id: int, actor_id: int, target_id: int) -> None:
        room, actor, target = await self._standings(room_id, actor_id, target_id)
        permissions.check_revoke(room, actor, target)
        del self.store.invitations[room_id][target_id]

    async def invitations_of(self, user_id: int) -> list[Invitation]:
        found = []
        for room_id, invited in sorted(self.store.invitations.items(), reverse=True):
            if user_id in invited:
                user, by = invited[user_id]
                found.append(Invitation(await self.store.get(room_id), user, by, EPOCH))
        return found

    async def _standings(
        self, room_id: int, actor_id: int, target_id: int
    ) -> tuple[Room, Standing, Standing | None]:
        room = await self.store.get(room_id)
        actor = await self.store.standing(room_id, actor_id)
        if room is None or actor is None:
            raise NotFound(f"there is no room {room_id}", code="room_not_found")
        return room, actor, await self.store.standing(room_id, target_id)

    def _system(self, room_id: int, body: str) -> Message:
        return self.store.store(room_id, "system", None, body, None)


class FakeDirectRoomRepo:
    def __init__(self, store: FakeRoomRepo) -> None:
        self.store = store
        self.pairs: dict[tuple[int, int], int] = {}

    async def find_dm(self, user_id: int, other_id: int) -> Room | None:
        room_id = self.pairs.get(_pair(user_id, other_id))
        return await self.store.get(room_id) if room_id is not None else None

    async def add_dm(self, *, creator: User, other: User) -> tuple[Room, bool]:
        pair = _pair(creator.id, other.id)
        if pair in self.pairs:
            return await self.store.get(self.pairs[pair]), False
        low, high = sorted((creator, other), key=lambda user: user.id)
        room_id = len(self.store.rooms) + 1
        room = Room(room_id, f"{low.username} & {high.username}", "", creator.id, EPOCH, 2)
        self.store.rooms[room_id] = replace(room, kind="dm", private=True)
        self.store.memberships[room_id] = {u.id: Member(u, "member", EPOCH) for u in (low, high)}
        self.pairs[pair] = room_id
        return await self.store.get(room_id), True


def _pair(first: int, second: int) -> tuple[int, int]:
    low, high = sorted((first, second))
    return low, high
