"""The users context: profiles (nickname, description, avatar) and lookups."""
