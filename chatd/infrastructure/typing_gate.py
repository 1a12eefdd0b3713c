"""Typing notices throttled across processes: one Lua script takes the user's slot in the room
for the interval and publishes the notice, in one round trip, or answers how long the slot is
still taken.

On a Redis Cluster the slot's key carries the room channel as its hash tag
(`chatd:typing:{chatd:room:<id>}:<user>`), so key and channel share a hash slot and the script
publishes with SPUBLISH on the shard that owns both."""

from datetime import timedelta

import redis.asyncio as redis

from chatd.domain.events import UserTyping
from chatd.infrastructure.channels import bus_payload, room_channel
from chatd.infrastructure.outages import unavailable_on_outage

# KEYS[1] the slot; ARGV: interval (ms), channel, payload. 0 if published, else the ms left.
FORWARD = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 0
end
return math.max(redis.call('PTTL', KEYS[1]), 1)
"""
SHARDED_FORWARD = FORWARD.replace("'PUBLISH'", "'SPUBLISH'")


@unavailable_on_outage
class RedisTypingGate:
    def __init__(self, client: redis.Redis, *, cluster: bool = False) -> None:
        self._forward = client.register_script(SHARDED_FORWARD if cluster else FORWARD)
        self._cluster = cluster

    async def forward(self, event: UserTyping, *, interval: timedelta) -> timedelta:
        channel = room_channel(event.room_id)
        room = f"{{{channel}}}" if self._cluster else str(event.room_id)
        slot = f"chatd:typing:{room}:{event.user.id}"
        args = [int(interval.total_seconds() * 1000), channel]
        left = await self._forward(keys=[slot], args=[*args, bus_payload(event)])
        return timedelta(milliseconds=int(left))
