-- Rooms, who is in them, and their messages.

-- last_seq is the room's message counter: every message insert bumps it with
-- UPDATE ... RETURNING in the same transaction, so seq is per room, gapless and never duplicated,
-- whichever process inserts. Its row lock is what serialises the posts of one room.
CREATE TABLE rooms (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    topic      text        NOT NULL DEFAULT '' CHECK (char_length(topic) <= 500),
    owner_id   bigint      NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seq   bigint      NOT NULL DEFAULT 0
);

CREATE TABLE memberships (
    room_id   bigint      NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      text        NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, user_id)
);

CREATE INDEX memberships_user_id_idx ON memberships (user_id);

-- System messages ("alice joined") have no author. messages_room_seq_key serves history:
-- any page is an index range scan, as cheap on the millionth message as on the first.
CREATE TABLE messages (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id    bigint      NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL CHECK (seq > 0),
    kind       text        NOT NULL CHECK (kind IN ('user', 'system')),
    author_id  bigint      REFERENCES users (id),
    body       text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    client_id  text        CHECK (char_length(client_id) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT messages_room_seq_key UNIQUE (room_id, seq),
    CONSTRAINT messages_client_id_key UNIQUE (room_id, author_id, client_id),
    CONSTRAINT messages_author_kind_check CHECK ((kind = 'user') = (author_id IS NOT NULL))
);
