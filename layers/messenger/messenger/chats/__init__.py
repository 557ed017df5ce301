"""The chats context: direct and group chats, messages, read markers (MongoDB)."""
