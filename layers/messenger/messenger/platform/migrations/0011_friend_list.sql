-- depends: 0010_exports 0004_friends 0003_users
-- Each user's friends in nickname order (decision 62), so GET /v1/friends reads a page as one
-- range of an index, whatever the number of friends. The friends context keeps its own copy of
-- each friend's sort key (lower(nickname)): the list is written when a friendship is accepted
-- and reordered from `user.profile_updated` (UpdateFriendsOnUserEvents).
--
-- friends.nicknames: the newest sort key the context knows per user, with the profile version
-- (updated_at) it came from, so a late or redelivered event cannot undo a newer one. Its row is
-- also the lock that orders an acceptance against a rename of either user.
CREATE TABLE friends.nicknames (
    user_id    uuid PRIMARY KEY,
    sort_key   text COLLATE "C" NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One row per direction of an accepted friendship: the owner's friend under the friend's key.
CREATE TABLE friends.friend_list (
    owner    uuid NOT NULL,
    sort_key text COLLATE "C" NOT NULL,
    friend   uuid NOT NULL,
    since    timestamptz NOT NULL,
    PRIMARY KEY (owner, sort_key, friend)
);
-- A rename rewrites the rows where the user is the friend; an unfriending finds its two rows.
CREATE INDEX friend_list_by_friend ON friends.friend_list (friend, owner);

-- The first page's pending requests, without walking the accepted rows.
CREATE INDEX friendships_pending_low ON friends.friendships (user_low) WHERE status = 'pending';
CREATE INDEX friendships_pending_high ON friends.friendships (user_high) WHERE status = 'pending';

-- Backfill from the friendships that exist. The one place the friends schema reads the users
-- schema: a migration runs once, before the new code takes traffic.
INSERT INTO friends.nicknames (user_id, sort_key, updated_at)
SELECT p.user_id, lower(p.nickname), p.updated_at
FROM users.profiles p
WHERE EXISTS (
    SELECT 1 FROM friends.friendships f
    WHERE f.status = 'accepted' AND p.user_id IN (f.user_low, f.user_high)
);

INSERT INTO friends.friend_list (owner, sort_key, friend, since)
SELECT f.user_low, n.sort_key, f.user_high, coalesce(f.responded_at, f.requested_at)
FROM friends.friendships f JOIN friends.nicknames n ON n.user_id = f.user_high
WHERE f.status = 'accepted'
UNION ALL
SELECT f.user_high, n.sort_key, f.user_low, coalesce(f.responded_at, f.requested_at)
FROM friends.friendships f JOIN friends.nicknames n ON n.user_id = f.user_low
WHERE f.status = 'accepted';
