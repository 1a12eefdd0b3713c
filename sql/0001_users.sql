-- Users and the refresh tokens of their logins.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL,
    password_hash bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- "Alice" and "alice" are the same account name.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- One row per issued refresh token, stored as sha256(token). A login starts a family; each
-- refresh spends one token and adds the next to the same family. Presenting a spent token
-- again revokes the whole family.
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    spent_at   timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
