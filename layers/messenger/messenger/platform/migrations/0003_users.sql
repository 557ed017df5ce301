-- depends: 0001_messaging
-- The users context: profiles. Only messenger.users reads this table.
CREATE SCHEMA IF NOT EXISTS users;

CREATE TABLE users.profiles (
    user_id     uuid PRIMARY KEY,
    email       text NOT NULL,
    nickname    text NOT NULL CHECK (nickname ~ '^[A-Za-z0-9_.]{3,32}$'),
    description text CHECK (char_length(description) <= 500),
    avatar_url  text CHECK (char_length(avatar_url) <= 2048),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness, enforced by the database; text_pattern_ops lets the same index
-- serve prefix search (lower(nickname) LIKE 'abc%').
CREATE UNIQUE INDEX profiles_nickname_ci ON users.profiles (lower(nickname) text_pattern_ops);
