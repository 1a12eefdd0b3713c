"""Typing notices throttled across processes: one Lua script takes the user's slot in the room
for the interval and publishes the notice, in one round trip, or answers how long the slot is
still taken."""

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


@unavailable_on_outage
class RedisTypingGate:
    def __init__(self, client: redis.Redis) -> None:
        self._forward = client.register_script(FORWARD)

    async def forward(self, event: UserTyping, *, interval: timedelta) -> timedelta:
        slot = f"chatd:typing:{event.room_id}:{event.user.id}"
        args = [int(interval.total_seconds() * 1000), room_channel(event.room_id)]
        left = await self._forward(keys=[slot], args=[*args, bus_payload(event)])
        return timedelta(milliseconds=int(left))
