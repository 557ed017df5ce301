"""The realtime context: live WebSocket connections (DynamoDB) and what is pushed over them."""
