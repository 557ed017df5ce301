"""The media context: uploads straight to object storage (S3), attachments and avatars."""
