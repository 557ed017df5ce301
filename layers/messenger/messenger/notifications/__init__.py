"""The notifications context: the push devices of each session (SNS mobile push endpoints)."""
