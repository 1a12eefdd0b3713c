-- Read markers: how far each member has read each of their rooms (a seq, only ever moved
-- forwards), and the index that makes an unread count a range count.

ALTER TABLE memberships ADD COLUMN last_read_seq bigint NOT NULL DEFAULT 0;

-- Members already in a room have read what came before this migration.
UPDATE memberships ms SET last_read_seq = r.last_seq FROM rooms r WHERE r.id = ms.room_id;

-- A new member (a join, a room's creation, a DM) starts having read everything before they
-- joined: only what comes after the membership counts as unread.
CREATE FUNCTION memberships_start_read() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_read_seq := coalesce((SELECT r.last_seq FROM rooms r WHERE r.id = NEW.room_id), 0);
    RETURN NEW;
END
$$;

CREATE TRIGGER memberships_start_read BEFORE INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_start_read();

-- Unread = user messages not deleted after the marker, not the reader's own: an index-only
-- range scan of this partial index from (room_id, last_read_seq) on.
CREATE INDEX messages_unread_idx ON messages (room_id, seq) INCLUDE (author_id)
    WHERE kind = 'user' AND deleted_at IS NULL;
