"""Presence in Redis (implements PresenceStore): who is online, across every process.

Keys (one hash tag, so a Redis Cluster keeps them on one node):
- `chatd:{presence}:processes`    sorted set: process name -> deadline (ms, Redis's clock)
- `chatd:{presence}:user:<id>`    set: the processes holding a connection of the user
- `chatd:{presence}:process:<p>`  set: the users process p holds (swept when p expires)
- `chatd:{presence}:sweep:<p>`    who sweeps expired process p (taken with NX, with an expiry)

A user is online while some process in their set has a deadline in the future. Each process
renews its deadline; a killed one stops, and the first renewal of another process after its
deadline hands it to that process to sweep. Every change runs as one Lua script, which also
publishes the presence frames it causes: one round trip, announcements ordered as changes.

On a Redis Cluster the keys above share one slot, but the rooms' channels live on every shard:
there the scripts publish nothing, and the frames of a change (when it is one) are published
after it through the bus (`announce`, SPUBLISH on each room's shard).
"""

import os
import secrets
import socket
from collections.abc import Awaitable, Callable

import redis.asyncio as redis

from chatd.application.ports import Renewal
from chatd.domain.events import PresenceChanged
from chatd.domain.model import User
from chatd.infrastructure.channels import bus_payload, room_channel
from chatd.infrastructure.outages import unavailable_on_outage

PREFIX = "chatd:{presence}:"
PROCESSES = f"{PREFIX}processes"
CLAIM_TTL = 20.0  # seconds a renewal keeps a process's claims alive
SWEEP_LOCK = 30.0  # seconds a sweeper has before another may take over

# KEYS[1] is always the processes; `now` is Redis's clock, the same for every process.
PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function alive(process)
  local deadline = redis.call('ZSCORE', KEYS[1], process)
  return deadline ~= false and tonumber(deadline) > now
end
local function online(user_key)
  for _, process in ipairs(redis.call('SMEMBERS', user_key)) do
    if alive(process) then return true end
  end
  return false
end
local function announce(first)
  for i = first, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
end
"""

# KEYS: processes, user, process. ARGV: process, user id, then channel/payload pairs.
CLAIM = """
local was_online = online(KEYS[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
if was_online then return 0 end
announce(3)
return 1
"""

# KEYS: processes, user, process. ARGV: process, user id, '1' if sweeping it, pairs.
RELEASE = """
if ARGV[3] == '1' and alive(ARGV[1]) then return 0 end
redis.call('SREM', KEYS[3], ARGV[2])
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 or online(KEYS[2]) then return 0 end
announce(4)
return 1
"""

# KEYS: processes. ARGV: process, ttl (ms), sweep lock (ms), sweep key prefix.
RENEW = """
local before = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local lost = 0
if before == false or tonumber(before) <= now then lost = 1 end
local expired = {}
for _, process in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)) do
  if redis.call('SET', ARGV[4] .. process, ARGV[1], 'NX', 'PX', ARGV[3]) then
    expired[#expired + 1] = process
  end
end
return {lost, expired}
"""

# KEYS: processes, then the users' sets. One flag per user.
ONLINE = """
local flags = {}
for i = 2, #KEYS do flags[#flags + 1] = online(KEYS[i]) and 1 or 0 end
return flags
"""

# KEYS: processes, process, its sweep key. ARGV: process.
FORGET = """
if alive(ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return 1
"""


def user_key(user_id: int) -> str:
    return f"{PREFIX}user:{user_id}"


def process_key(process: str) -> str:
    return f"{PREFIX}process:{process}"


def sweep_key(process: str) -> str:
    return f"{PREFIX}sweep:{process}"


Announce = Callable[[list[tuple[str, str]]], Awaitable[None]]


def announcements(user: User, room_ids: list[int], *, online: bool) -> list[str]:
    """Channel and bus payload of the presence frame, per room."""
    pairs = []
    for room_id in room_ids:
        event = PresenceChanged(room_id=room_id, user=user, online=online)
        pairs += [room_channel(room_id), bus_payload(event)]
    return pairs


@unavailable_on_outage
class RedisPresence:
    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl: float = CLAIM_TTL,
        name: str = "",
        announce: Announce | None = None,
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._client = client
        self._announce = announce  # set on a cluster: frames published after the script
        self._ttl_ms = int(ttl * 1000)
        script = client.register_script
        self._claim, self._release = script(PRELUDE + CLAIM), script(PRELUDE + RELEASE)
        self._renew, self._online = script(PRELUDE + RENEW), script(PRELUDE + ONLINE)
        self._forget = script(PRELUDE + FORGET)

    async def claim(self, user: User, room_ids: list[int]) -> bool:
        keys = [PROCESSES, user_key(user.id), process_key(self.name)]
        pairs = announcements(user, room_ids, online=True)
        args = [self.name, user.id, *self._in_script(pairs)]
        return await self._announced(bool(await self._claim(keys=keys, args=args)), pairs)

    async def release(self, user: User, room_ids: list[int], *, process: str = "") -> bool:
        keys = [PROCESSES, user_key(user.id), process_key(process or self.name)]
        sweeping = "1" if process else "0"
        pairs = announcements(user, room_ids, online=False)
        args = [process or self.name, user.id, sweeping, *self._in_script(pairs)]
        return await self._announced(bool(await self._release(keys=keys, args=args)), pairs)

    def _in_script(self, pairs: list[str]) -> list[str]:
        """What the script publishes itself: everything, unless the bus announces."""
        return pairs if self._announce is None else []

    async def _announced(self, changed: bool, pairs: list[str]) -> bool:
        if changed and self._announce is not None and pairs:
            await self._announce(list(zip(pairs[::2], pairs[1::2], strict=True)))
        return changed

    async def renew(self) -> Renewal:
        args = [self.name, self._ttl_ms, int(SWEEP_LOCK * 1000), f"{PREFIX}sweep:"]
        lost, expired = await self._renew(keys=[PROCESSES], args=args)
        return Renewal(lost=bool(lost), expired=[process.decode() for process in expired])

    async def orphans(self, process: str) -> list[int]:
        return sorted(int(user_id) for user_id in await self._client.smembers(process_key(process)))

    async def forget(self, process: str) -> None:
        keys = [PROCESSES, process_key(process), sweep_key(process)]
        await self._forget(keys=keys, args=[process])

    async def online(self, user_ids: list[int]) -> set[int]:
        if not user_ids:
            return set()
        flags = await self._online(keys=[PROCESSES, *map(user_key, user_ids)])
        return {user_id for user_id, flag in zip(user_ids, flags, strict=True) if flag}
