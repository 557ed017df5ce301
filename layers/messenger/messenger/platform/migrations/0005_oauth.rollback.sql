DROP TABLE auth.oauth_identities;
