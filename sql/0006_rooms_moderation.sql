-- Chat features, the rooms side: private rooms, direct messages, roles, bans and invitations.

-- kind 'dm' is a direct-message room of two users (always private, never listed); a private
-- room is seen and joined only by its members, its owner and those invited.
ALTER TABLE rooms
    ADD COLUMN kind    text    NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'dm')),
    ADD COLUMN private boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT rooms_dm_private_check CHECK (kind = 'room' OR private);

ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships
    ADD CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'moderator', 'member'));

-- The one DM room of each pair of users, keyed by the ordered pair: two processes creating the
-- same DM at once both INSERT here in their transaction, and the primary key lets one win.
CREATE TABLE dm_pairs (
    low_user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    high_user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id      bigint NOT NULL UNIQUE REFERENCES rooms (id) ON DELETE CASCADE,
    PRIMARY KEY (low_user_id, high_user_id),
    CHECK (low_user_id < high_user_id)
);

-- A ban outlives the membership it ended; the user may not join until it is lifted.
CREATE TABLE room_bans (
    room_id    bigint      NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, user_id)
);

-- An invitation lets its user see and join a private room once: joining spends it.
CREATE TABLE room_invitations (
    room_id    bigint      NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, user_id)
);

CREATE INDEX room_invitations_user_id_idx ON room_invitations (user_id);
