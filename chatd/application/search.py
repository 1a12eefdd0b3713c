"""Searching a room's history by words."""

from chatd.application.ports import MessageSearch, RoomRepo
from chatd.application.rooms import ensure_member
from chatd.domain.model import Message, User
from chatd.domain.rules import DEFAULT_PAGE, check_limit, check_search_query


class Search:
    def __init__(self, *, search: MessageSearch, rooms: RoomRepo) -> None:
        self._search = search
        self._rooms = rooms

    async def search(
        self,
        *,
        room_id: int,
        reader: User,
        query: str,
        before_seq: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> list[Message]:
        """The room's user messages matching the query, newest first; members only."""
        query = check_search_query(query)
        check_limit(limit)
        await ensure_member(self._rooms, room_id=room_id, user=reader)
        return await self._search.search(room_id, query, before_seq=before_seq, limit=limit)
