"""Full-text search of a room's messages: websearch_to_tsquery over the GIN index
messages_search_idx (sql/0004), whose expression the query repeats exactly."""

import asyncpg

from chatd.domain.model import Message
from chatd.infrastructure.messages import MESSAGE_SELECT, NO_UPPER_BOUND, rows_to_messages
from chatd.infrastructure.outages import unavailable_on_outage

SEARCH_SQL = f"""{MESSAGE_SELECT}
    WHERE m.room_id = $1 AND m.kind = 'user' AND m.seq < $3
      AND to_tsvector('simple'::regconfig, m.body) @@ websearch_to_tsquery('simple', $2)
    ORDER BY m.seq DESC
    LIMIT $4
"""


@unavailable_on_outage
class PgMessageSearch:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def search(
        self, room_id: int, query: str, *, before_seq: int | None, limit: int
    ) -> list[Message]:
        upper = NO_UPPER_BOUND if before_seq is None else before_seq
        rows = await self._pool.fetch(SEARCH_SQL, room_id, query, upper, limit)
        return rows_to_messages(rows)
