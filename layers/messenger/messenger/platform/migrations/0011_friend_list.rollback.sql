DROP INDEX friends.friendships_pending_high;
DROP INDEX friends.friendships_pending_low;
DROP TABLE friends.friend_list;
DROP TABLE friends.nicknames;
