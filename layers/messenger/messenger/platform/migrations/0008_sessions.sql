-- depends: 0006_nickname_reservations
-- Sessions that outlive an access token (decision 48). A login opens one `auth.logins` row: its
-- `session_id` is the stable name other contexts use (connections, the authorizer's context,
-- the push-side revocation check). Each access token (`auth.sessions`, as before) and each
-- refresh token names its login; a refresh retires its token (`used_at`) and issues a new pair,
-- and a retired token presented again revokes the whole login (OAuth 2.0 Security BCP, 4.14).
CREATE TABLE auth.logins (
    session_id   text PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES auth.accounts (user_id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    -- When the newest refresh token runs out: past it nothing of the login can be used.
    expires_at   timestamptz NOT NULL,
    user_agent   text,
    revoked_at   timestamptz
);
CREATE INDEX logins_by_user ON auth.logins (user_id, created_at DESC) WHERE revoked_at IS NULL;

CREATE TABLE auth.refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id text NOT NULL REFERENCES auth.logins (session_id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_by_session ON auth.refresh_tokens (session_id);

-- Sessions opened before this release keep the name connections already hold: their token
-- hash in hex (what messenger.auth.session.session_id gave).
INSERT INTO auth.logins (session_id, user_id, created_at, last_used_at, expires_at, revoked_at)
SELECT encode(token_hash, 'hex'), user_id, created_at, created_at, expires_at, revoked_at
FROM auth.sessions;

ALTER TABLE auth.sessions ADD COLUMN session_id text REFERENCES auth.logins (session_id)
    ON DELETE CASCADE;
UPDATE auth.sessions SET session_id = encode(token_hash, 'hex');
ALTER TABLE auth.sessions ALTER COLUMN session_id SET NOT NULL;
CREATE INDEX sessions_by_session ON auth.sessions (session_id);

-- Email verification and password reset (decision 49): single-use tokens, stored hashed.
ALTER TABLE auth.accounts ADD COLUMN email_verified_at timestamptz;
CREATE TABLE auth.email_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES auth.accounts (user_id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    -- The address the mail went to: a token for an address the account no longer has is void.
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_tokens_by_user ON auth.email_tokens (user_id, purpose);
