"""Where the notifications context keeps devices (DynamoDB) and reaches phones (SNS)."""
