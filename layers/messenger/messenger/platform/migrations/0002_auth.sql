-- depends: 0001_messaging
-- The auth context: credentials and sessions. Only messenger.auth reads these tables.
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.accounts (
    user_id       uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(btrim(email))),
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.sessions (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES auth.accounts (user_id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_by_user ON auth.sessions (user_id);
CREATE INDEX sessions_by_expiry ON auth.sessions (expires_at);
