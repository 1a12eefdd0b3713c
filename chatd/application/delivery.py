"""Delivery policy: what a connection is sent of a room's stream, and when.

"No gap, no duplicate" rests on one cursor per connection and room (RoomCursor) and two small
rules: how many messages a resume would replay (missed_count, against the resync limit) and
where a room's stream goes on after a hole that never fills (seq_after_hole).
"""

import logging

from chatd.application.ports import Outbox

log = logging.getLogger(__name__)


class RoomCursor:
    """Where one connection is in one room: the seq its stream started after, the highest seq
    it was sent, and the live frames held back while a replay goes first.

    push() runs once per recipient per message: it is kept to a comparison and an append.
    """

    __slots__ = ("_held", "outbox", "room_id", "sent", "started_after")

    def __init__(self, outbox: Outbox, room_id: int, *, after_seq: int, hold: bool = False):
        self.outbox = outbox
        self.room_id = room_id
        self.started_after = after_seq
        self.sent = after_seq
        self._held: list[tuple[int, str]] | None = [] if hold else None

    def push(self, seq: int, text: str) -> None:
        """A live message: sent if it is new here, held while a replay runs."""
        held = self._held
        if held is not None:
            held.append((seq, text))
            if len(held) > self.outbox.capacity:
                self.outbox.overflow()
            return
        if seq > self.sent:
            if seq != self.sent + 1:
                log.warning("room %s: connection skips from %s to %s", self.room_id, self.sent, seq)
            self.sent = seq
            self.outbox.send(text)

    def push_replayed(self, seq: int, text: str) -> None:
        """A message read back from storage for a replay: never held, never twice."""
        if seq > self.sent:
            self.sent = seq
            self.outbox.send(text)

    def push_older(self, text: str) -> None:
        """A message from before the stream started, asked for by the client (out of the live
        order on purpose: the replay sends them as one ascending block first)."""
        self.outbox.send(text)

    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold(self) -> None:
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Send what arrived live during a replay, minus what the replay already sent."""
        held, self._held = self._held or [], None
        for seq, text in held:
            self.push(seq, text)

    def rewind(self, after_seq: int) -> None:
        """A replay is sending the seqs from after_seq up to where the stream started."""
        self.started_after = min(self.started_after, after_seq)

    def advance(self, seq: int) -> None:
        """Skip ahead: nothing up to seq will be sent."""
        self.sent = max(self.sent, seq)


def missed_count(*, started_after: int, sent: int, after_seq: int, last_seq: int) -> int:
    """How many messages a resume from after_seq sends: those before the stream started
    (after_seq < started_after) plus those stored but not yet sent. A position from the future
    means up to date."""
    after_seq = min(after_seq, last_seq)
    older = max(0, started_after - after_seq)
    return older + last_seq - max(sent, after_seq)


def seq_after_hole(last_seq: int, waiting: list[int]) -> int:
    """A hole after last_seq never filled: go on just before the lowest seq known to exist."""
    return min(waiting) - 1 if waiting else last_seq
