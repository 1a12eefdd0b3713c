-- When each user last had a login end (logout, a replayed refresh token): read for the users of
-- a process's open sockets after its bus reconnects, to close those a lost notice left open.
CREATE INDEX refresh_tokens_revoked_idx ON refresh_tokens (user_id, revoked_at)
    WHERE revoked_at IS NOT NULL;
