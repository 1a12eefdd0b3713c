-- Storing user messages in one round trip: chatd sends every message queued in a process as one
-- call of this function (group commit), which runs as one statement in one transaction. The rooms'
-- row locks are taken inside PostgreSQL, in room id order (so two processes' batches never
-- deadlock), and released at its commit: never held while chatd's event loop is busy.
--
-- For each entry, in order, one row comes back with its position (ord, from 1) and status:
--   'stored'     the message was given the room's next seq and inserted;
--   'repeat'     the author already posted this client_id in the room (earlier or earlier in the
--                same batch): that message, nothing stored, no seq taken;
--   'not_member' the author is not a member of the room;
--   'no_room'    there is no such room.
-- If any insert fails, the whole call fails and none of the batch is stored.
CREATE FUNCTION store_messages(room_ids bigint[], author_ids bigint[], bodies text[],
                               client_ids text[])
RETURNS TABLE (ord int, status text, id bigint, seq bigint, body text, created_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    i int;
    next_seq bigint;
BEGIN
    PERFORM 1 FROM rooms r
    WHERE r.id = ANY (room_ids)
    ORDER BY r.id
    FOR NO KEY UPDATE;

    FOR i IN 1 .. coalesce(array_length(room_ids, 1), 0) LOOP
        ord := i;
        IF NOT EXISTS (SELECT 1 FROM memberships ms
                       WHERE ms.room_id = room_ids[i] AND ms.user_id = author_ids[i]) THEN
            status := CASE WHEN EXISTS (SELECT 1 FROM rooms r WHERE r.id = room_ids[i])
                           THEN 'not_member' ELSE 'no_room' END;
            id := NULL; seq := NULL; body := NULL; created_at := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF client_ids[i] IS NOT NULL THEN
            SELECT m.id, m.seq, m.body, m.created_at INTO id, seq, body, created_at
            FROM messages m
            WHERE m.room_id = room_ids[i] AND m.author_id = author_ids[i]
              AND m.client_id = client_ids[i];
            IF FOUND THEN
                status := 'repeat';
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        UPDATE rooms r SET last_seq = r.last_seq + 1 WHERE r.id = room_ids[i]
        RETURNING r.last_seq INTO next_seq;
        INSERT INTO messages AS m (room_id, seq, kind, author_id, body, client_id)
        VALUES (room_ids[i], next_seq, 'user', author_ids[i], bodies[i], client_ids[i])
        RETURNING m.id, m.seq, m.body, m.created_at INTO id, seq, body, created_at;
        status := 'stored';
        RETURN NEXT;
    END LOOP;
END
$$;
