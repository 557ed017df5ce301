-- Shared plumbing: the transactional outbox and the consumers' dedupe inbox.
CREATE SCHEMA IF NOT EXISTS messaging;

CREATE TABLE messaging.outbox (
    seq            bigserial PRIMARY KEY,
    id             uuid NOT NULL UNIQUE,
    topic          text NOT NULL,
    key            text NOT NULL,
    payload        jsonb NOT NULL,
    correlation_id text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
-- The relay's scan: only unpublished rows, oldest first.
CREATE INDEX outbox_pending ON messaging.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE messaging.inbox (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
