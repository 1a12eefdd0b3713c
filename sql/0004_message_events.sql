-- Edits and deletes of messages, each a position of its own in the room's seq stream.
--
-- An edit or a delete changes its target row (the current body, edited_at / deleted_at) and
-- inserts an event row (kind 'edit' or 'delete', target_seq = the target's seq) with the room's
-- next seq, in one transaction under the room row's lock, as posts do. Resume, replay and gap
-- filling read event rows like messages; REST history reads only 'user' and 'system' rows.
--
-- A delete removes the text from every row: the target's body and the bodies of the target's
-- earlier edit events become NULL.

ALTER TABLE messages
    ADD COLUMN target_seq bigint,
    ADD COLUMN edited_at  timestamptz,
    ADD COLUMN deleted_at timestamptz,
    ALTER COLUMN body DROP NOT NULL,
    DROP CONSTRAINT messages_kind_check,
    DROP CONSTRAINT messages_author_kind_check;

ALTER TABLE messages
    ADD CONSTRAINT messages_kind_check CHECK (kind IN ('user', 'system', 'edit', 'delete')),
    ADD CONSTRAINT messages_author_kind_check CHECK ((kind = 'system') = (author_id IS NULL)),
    ADD CONSTRAINT messages_target_check CHECK ((kind IN ('edit', 'delete')) = (target_seq IS NOT NULL)),
    ADD CONSTRAINT messages_body_gone_check
        CHECK (body IS NOT NULL OR deleted_at IS NOT NULL OR kind IN ('edit', 'delete'));

-- The edit events of one target, for a delete to wipe their bodies.
CREATE INDEX messages_target_idx ON messages (room_id, target_seq) WHERE target_seq IS NOT NULL;

-- Full-text search of user messages' current bodies (deleted ones have none). 'simple': no
-- stemming and no stop words, so any language's words match as written (case-insensitively).
CREATE INDEX messages_search_idx ON messages
    USING gin (to_tsvector('simple'::regconfig, body)) WHERE kind = 'user';

-- Edit a user message: a row (the event's seq and time) if it was edited, none if the guard did
-- not hold: the editor must be its author and a member, the message not deleted, and written at
-- or after not_before (NULL: no edit window).
CREATE FUNCTION edit_message(p_room_id bigint, p_seq bigint, p_editor_id bigint, p_body text,
                             p_not_before timestamptz)
RETURNS TABLE (event_seq bigint, event_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := clock_timestamp();
BEGIN
    PERFORM 1 FROM rooms r WHERE r.id = p_room_id FOR NO KEY UPDATE;
    UPDATE messages m SET body = p_body, edited_at = at
    WHERE m.room_id = p_room_id AND m.seq = p_seq AND m.kind = 'user'
      AND m.author_id = p_editor_id AND m.deleted_at IS NULL
      AND (p_not_before IS NULL OR m.created_at >= p_not_before)
      AND EXISTS (SELECT 1 FROM memberships ms
                  WHERE ms.room_id = p_room_id AND ms.user_id = p_editor_id);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE rooms r SET last_seq = r.last_seq + 1 WHERE r.id = p_room_id
    RETURNING r.last_seq INTO event_seq;
    INSERT INTO messages (room_id, seq, kind, author_id, body, target_seq, created_at)
    VALUES (p_room_id, event_seq, 'edit', p_editor_id, p_body, p_seq, at);
    event_at := at;
    RETURN NEXT;
END
$$;

-- Delete a user message: a row (the event's seq) if it was deleted, none if the guard did not
-- hold. As its author (p_as_moderator false) the actor must be its author and a member; as a
-- moderator, a member whose role is 'owner' or 'moderator'. The message must not be deleted yet.
CREATE FUNCTION delete_message(p_room_id bigint, p_seq bigint, p_actor_id bigint,
                               p_as_moderator boolean)
RETURNS TABLE (event_seq bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM rooms r WHERE r.id = p_room_id FOR NO KEY UPDATE;
    UPDATE messages m SET body = NULL, deleted_at = clock_timestamp()
    WHERE m.room_id = p_room_id AND m.seq = p_seq AND m.kind = 'user' AND m.deleted_at IS NULL
      AND (p_as_moderator OR m.author_id = p_actor_id)
      AND EXISTS (SELECT 1 FROM memberships ms
                  WHERE ms.room_id = p_room_id AND ms.user_id = p_actor_id
                    AND (NOT p_as_moderator OR ms.role IN ('owner', 'moderator')));
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE messages m SET body = NULL
    WHERE m.room_id = p_room_id AND m.target_seq = p_seq AND m.kind = 'edit';
    UPDATE rooms r SET last_seq = r.last_seq + 1 WHERE r.id = p_room_id
    RETURNING r.last_seq INTO event_seq;
    INSERT INTO messages (room_id, seq, kind, author_id, body, target_seq)
    VALUES (p_room_id, event_seq, 'delete', p_actor_id, NULL, p_seq);
    RETURN NEXT;
END
$$;
