"""The friends context: friend requests and friendships, one row per unordered pair."""
