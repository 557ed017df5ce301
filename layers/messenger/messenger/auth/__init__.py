"""The auth context: accounts, password credentials, sessions and login throttling."""
