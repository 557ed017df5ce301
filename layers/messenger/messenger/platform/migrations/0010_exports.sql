-- depends: 0006_nickname_reservations
-- Data exports (POST /v1/users/me/exports): one row per request; the archive itself is an object
-- under the media bucket's exports/ prefix (lifecycle: 7 days). Rows go with the account.
CREATE TABLE users.exports (
    export_id    uuid PRIMARY KEY,
    user_id      uuid NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'ready')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    ready_at     timestamptz,
    object_key   text
);
-- The caller's requests, newest first (the status route, the rate rule's window).
CREATE INDEX exports_by_user ON users.exports (user_id, requested_at DESC);
