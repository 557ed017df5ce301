"""The media context's adapters: the uploads collection (MongoDB) and the bucket (S3)."""
