"""Presence: a user is online while at least one of their connections is open, on any process.

This process counts the connections of each user here. The first one claims the user in the
shared PresenceStore (which announces them online to their rooms if nobody held them); when the
last one closes, the claim is dropped after a grace, so a reconnect meanwhile (here or on
another process) is no offline/online pair. Claims live as long as this process renews them:
if it dies, they expire, and the first process to notice sweeps them (announcing offline).
One store call per first connection and per last disconnection, never per room or message.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from chatd.application.ports import MembershipReader, PresenceStore, UserReader
from chatd.domain.model import User

log = logging.getLogger(__name__)

GRACE = 2.0  # seconds between the last disconnection and "offline"
RENEW_EVERY = 5.0  # seconds between renewals of this process's claims (and sweeps)
SWEEP_BATCH = 50  # users of an expired process announced at once


@dataclass(eq=False, slots=True)
class _Here:
    """One user's connections on this process, and whether the store holds our claim."""

    user: User
    connections: int = 0
    claimed: bool = False
    # Only while settling: an idle user holds no Event (with its waiters' deque, ~600 bytes).
    changed: asyncio.Event | None = None
    settling: asyncio.Task[None] | None = None


class Presence:
    def __init__(
        self,
        *,
        store: PresenceStore,
        users: UserReader,
        memberships: MembershipReader,
        grace: float = GRACE,
        renew_every: float = RENEW_EVERY,
    ) -> None:
        self._store = store
        self._users = users
        self._memberships = memberships
        self._grace = grace
        self._renew_every = renew_every
        self._here: dict[int, _Here] = {}
        self._renewing: asyncio.Task[None] | None = None
        self._epoch = 0  # counts the renewals that found this process's claims lost
        self._sweeps: set[asyncio.Task[None]] = set()

    def connected(self, user: User) -> None:
        here = self._here.get(user.id)
        if here is None:
            here = self._here[user.id] = _Here(user)
        here.connections += 1
        self._settle(here)

    def disconnected(self, user: User) -> None:
        here = self._here.get(user.id)
        if here is not None and here.connections > 0:
            here.connections -= 1
            self._settle(here)

    async def start(self) -> None:
        """Renew (register) this process now, then every RENEW_EVERY seconds."""
        await self.renew()
        self._renewing = asyncio.create_task(self._renew_forever(), name="presence-renewal")

    async def aclose(self) -> None:
        """Stop. The claims are left to expire, not dropped: the users of a process that
        restarts and reconnect meanwhile are never shown offline, and nobody else's rooms get
        a flood of presence frames."""
        tasks = [self._renewing, *self._sweeps, *(h.settling for h in self._here.values())]
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)

    async def renew(self) -> None:
        """Keep the claims alive; claim again what was lost or failed; sweep expired processes."""
        try:
            renewal = await self._store.renew()
        except Exception as error:
            log.warning("presence: cannot renew this process's claims: %s", error)
            return
        self._epoch += renewal.lost
        for here in list(self._here.values()):
            if renewal.lost and here.connections:
                here.claimed = False  # expired: perhaps swept meanwhile
            if here.settling is None and bool(here.connections) != here.claimed:
                self._settle(here)  # (a running one looks at the state again anyway)
        for process in renewal.expired:
            self._spawn_sweep(process)

    # Inside.

    def _settle(self, here: _Here) -> None:
        if here.settling is None:
            here.changed = asyncio.Event()  # (a new settling looks at the state first anyway)
            here.settling = asyncio.create_task(self._settling(here, here.changed))
        elif here.changed is not None:
            here.changed.set()

    async def _settling(self, here: _Here, changed: asyncio.Event) -> None:
        """Bring the store in line with this process's connections of the user, one change at a
        time; a failure is left for the next renewal to retry."""
        try:
            while True:
                changed.clear()
                if here.connections and not here.claimed:
                    epoch = self._epoch
                    here.claimed = await self._tell(here.user, online=True)
                    if not here.claimed:
                        return
                    here.claimed = epoch == self._epoch  # else the claim may have been swept
                elif not here.connections and here.claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), self._grace)
                        continue  # a connection came or went during the grace: look again
                    if not here.connections:
                        here.claimed = not await self._tell(here.user, online=False)
                        if here.claimed:
                            return
                else:
                    return
        finally:
            here.settling = here.changed = None
            if not here.connections and not here.claimed and self._here.get(here.user.id) is here:
                del self._here[here.user.id]

    async def _tell(self, user: User, *, online: bool) -> bool:
        """Claim or release the user in the store, announced to their rooms; False if it failed."""
        try:
            room_ids = await self._memberships.room_ids_of(user.id)
            if online:
                await self._store.claim(user, room_ids)
            else:
                await self._store.release(user, room_ids)
        except Exception as error:
            log.warning("presence of user %s: store unavailable (%s); retrying", user.id, error)
            return False
        return True

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._renew_every)
            await self.renew()

    def _spawn_sweep(self, process: str) -> None:
        task = asyncio.create_task(self._sweep(process))
        self._sweeps.add(task)
        task.add_done_callback(self._sweeps.discard)

    async def _sweep(self, process: str) -> None:
        """A process died: release each of its users, offline where nobody else holds them."""
        try:
            orphans = await self._store.orphans(process)
            for start in range(0, len(orphans), SWEEP_BATCH):
                batch = orphans[start : start + SWEEP_BATCH]
                await asyncio.gather(*(self._release_orphan(process, user_id) for user_id in batch))
            await self._store.forget(process)
        except Exception as error:
            # Its sweep key expires, and then a renewal hands the process out again.
            log.warning("presence: sweep of %s failed (%s)", process, error)
            return
        log.info("presence: swept %s users of expired process %s", len(orphans), process)

    async def _release_orphan(self, process: str, user_id: int) -> None:
        user = await self._users.get(user_id)
        if user is not None:  # (users are never deleted)
            room_ids = await self._memberships.room_ids_of(user_id)
            await self._store.release(user, room_ids, process=process)
