-- depends: 0002_auth
-- OAuth 2.0 / OpenID Connect identities of the auth context: which account a provider's subject
-- signs in to. One row per (provider, subject); an account may hold several identities.
CREATE TABLE auth.oauth_identities (
    provider   text NOT NULL,
    subject    text NOT NULL,
    user_id    uuid NOT NULL REFERENCES auth.accounts (user_id) ON DELETE CASCADE,
    email      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oauth_identities_by_user ON auth.oauth_identities (user_id);
