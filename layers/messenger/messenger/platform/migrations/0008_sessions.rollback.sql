DROP TABLE IF EXISTS auth.email_tokens;
ALTER TABLE auth.accounts DROP COLUMN IF EXISTS email_verified_at;
DROP INDEX IF EXISTS auth.sessions_by_session;
ALTER TABLE auth.sessions DROP COLUMN IF EXISTS session_id;
DROP TABLE IF EXISTS auth.refresh_tokens;
DROP TABLE IF EXISTS auth.logins;
