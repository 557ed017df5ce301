"""Reports for moderators (issue 14)."""
