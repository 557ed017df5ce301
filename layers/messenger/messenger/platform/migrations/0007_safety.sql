-- depends: 0004_friends
-- Blocks (API.md "Blocking, muting, reporting"), beside the friendships: a block ends the
-- pair's friendship row in the same transaction, under the same pair lock (friends.adapters).
-- One row per (blocker, blocked): both may block each other, each unblocks their own.
CREATE TABLE friends.blocks (
    blocker    uuid NOT NULL,
    blocked    uuid NOT NULL,
    blocked_at timestamptz NOT NULL,
    PRIMARY KEY (blocker, blocked),
    CHECK (blocker <> blocked)
);
-- The primary key serves "whom I blocked" (GET /v1/blocks, the history filter); this serves
-- "who blocked me" (the send path's who_blocked, friend requests).
CREATE INDEX blocks_by_blocked ON friends.blocks (blocked, blocker);
-- GET /v1/blocks pages newest first.
CREATE INDEX blocks_by_time ON friends.blocks (blocker, blocked_at DESC, blocked);
