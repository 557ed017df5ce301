"""The safety context's stores."""
