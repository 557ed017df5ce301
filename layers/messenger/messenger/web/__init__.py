"""The Lambda entrypoints' plumbing: the HTTP resolver and its error map, the API docs, the
bearer token, and the Kafka consumer batch loop. No context's logic lives here.
"""
