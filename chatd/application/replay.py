"""Replay: send a connection the messages of a room it missed, read back from storage, ahead of
the live ones (which its cursor holds back meanwhile)."""

from collections.abc import AsyncIterator, Callable

from chatd.application.delivery import RoomCursor, missed_count
from chatd.application.frames import position_frame
from chatd.application.ports import MessageReader
from chatd.domain.events import Position

RESYNC_LIMIT = 1000  # more missed messages than this in a room: resync_required instead
REPLAY_PAGE = 200


async def replay(
    cursor: RoomCursor,
    *,
    after_seq: int,
    messages: MessageReader,
    watching: Callable[[], bool],
    limit: int = RESYNC_LIMIT,
    page: int = REPLAY_PAGE,
) -> bool:
    """Send the room's messages after `after_seq` that the connection has not been sent, in seq
    order; False (and nothing sent) when more than `limit` are missed: the stream goes on live.
    Stops early once `watching()` is false (the user left the room meanwhile)."""
    cursor.hold()
    try:
        last = await messages.last_seq(cursor.room_id)
        missed = missed_count(
            started_after=cursor.started_after, sent=cursor.sent, after_seq=after_seq, last_seq=last
        )
        if missed > limit:
            return False
        after_seq = min(after_seq, last)
        reader = _Pages(messages, cursor.room_id, page, watching)
        if after_seq < cursor.started_after:
            async for message in reader.between(after_seq, cursor.started_after):
                cursor.push_older(position_frame(message))
            cursor.rewind(after_seq)
        cursor.advance(after_seq)
        async for message in reader.between(cursor.sent, None):
            cursor.push_replayed(message.seq, position_frame(message))
        return True
    finally:
        cursor.release()


class _Pages:
    def __init__(
        self, messages: MessageReader, room_id: int, page: int, watching: Callable[[], bool]
    ) -> None:
        self._messages = messages
        self._room_id = room_id
        self._page = page
        self._watching = watching

    async def between(self, after: int, upto: int | None) -> AsyncIterator[Position]:
        """Stored messages with after < seq <= upto (no upper bound: None), ascending."""
        while upto is None or after < upto:
            rows = await self._messages.list_after(self._room_id, after, limit=self._page)
            for message in rows:
                if (upto is not None and message.seq > upto) or not self._watching():
                    return
                yield message
                after = message.seq
            if len(rows) < self._page:
                return
