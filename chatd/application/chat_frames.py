"""The chat features' client frames of a WebSocket session: edit and delete a message (limited
with the session's sends, as they share the message rate) and move a read marker."""

from chatd.application.message_changes import MessageChanges
from chatd.application.ports import Clock
from chatd.application.reading import ReadMarkers
from chatd.application.session_rules import Session, within_limits
from chatd.domain.events import MessageEdited


class ChatFrames:
    def __init__(self, *, changes: MessageChanges, reading: ReadMarkers, clock: Clock) -> None:
        self._changes = changes
        self._reading = reading
        self._clock = clock

    async def edit_message(
        self, session: Session, *, room_id: int, seq: int, body: str
    ) -> MessageEdited:
        """As PATCH /api/rooms/{room_id}/messages/{seq}."""
        return await within_limits(
            session,
            "send_message",
            self._clock.now(),
            lambda: self._changes.edit(room_id=room_id, seq=seq, editor=session.user, body=body),
        )

    async def delete_message(self, session: Session, *, room_id: int, seq: int) -> None:
        """As DELETE /api/rooms/{room_id}/messages/{seq}."""
        await within_limits(
            session,
            "send_message",
            self._clock.now(),
            lambda: self._changes.delete(room_id=room_id, seq=seq, actor=session.user),
        )

    async def mark_read(self, session: Session, *, room_id: int, seq: int) -> int:
        """As POST /api/rooms/{room_id}/read: the user's marker in the room now."""
        return await self._reading.mark_read(room_id=room_id, user=session.user, seq=seq)
