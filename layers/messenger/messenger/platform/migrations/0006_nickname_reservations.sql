-- depends: 0003_users
-- Nicknames held by registrations whose profile does not exist yet (API.md, "Accounts and
-- sessions": a nickname is taken from the moment its registration returned 201). A row is
-- inserted in the account's own transaction, so of two registrations of `Nick` and `NICK` one
-- commits and the other gets 409; the profile's creation deletes it in its transaction. A profile
-- update claims its new nickname here too (and drops it before committing), so it waits for, and
-- then loses to, a registration that reserved the nickname first.
CREATE TABLE users.nickname_reservations (
    nickname_ci text PRIMARY KEY CHECK (nickname_ci = lower(nickname_ci)),
    user_id     uuid NOT NULL,
    reserved_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nickname_reservations_by_user ON users.nickname_reservations (user_id);
