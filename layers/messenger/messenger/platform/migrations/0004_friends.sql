-- depends: 0001_messaging
-- The friends context: one row per unordered pair (user_low < user_high), so a request and its
-- reverse are the same row and cannot both exist.
CREATE SCHEMA IF NOT EXISTS friends;

CREATE TABLE friends.friendships (
    user_low     uuid NOT NULL,
    user_high    uuid NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    requested_by uuid NOT NULL,
    requested_at timestamptz NOT NULL,
    responded_at timestamptz,
    PRIMARY KEY (user_low, user_high),
    CHECK (user_low < user_high),
    CHECK (requested_by IN (user_low, user_high))
);
-- The primary key serves "rows where I am user_low"; this serves "rows where I am user_high".
CREATE INDEX friendships_by_high ON friends.friendships (user_high, user_low);
