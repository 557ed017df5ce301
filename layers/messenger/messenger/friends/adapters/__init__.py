"""The friends context's adapters: the stores and clients that implement its ports."""
