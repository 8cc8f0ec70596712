-- Social login (issue 15): which account each person at an OAuth2 / OpenID Connect provider is.
-- `subject` is the provider's own stable id for them (OIDC `sub`, Kakao's and Naver's `id`),
-- never their email, which they may change there. An account made by a social login has an
-- empty password_hash, which never verifies: no password login until the person sets one.
CREATE TABLE oauth_identities (
    id         INTEGER PRIMARY KEY,
    provider   VARCHAR(32)  NOT NULL,
    subject    VARCHAR(255) NOT NULL,
    user_id    BIGINT       NOT NULL REFERENCES users (id),
    email      VARCHAR(254) NOT NULL,
    created_at VARCHAR(32)  NOT NULL
);
CREATE UNIQUE INDEX oauth_identities_subject ON oauth_identities (provider, subject);
CREATE INDEX oauth_identities_user ON oauth_identities (user_id);

-- The states whose callback has been taken, so that each is spent once (a replayed callback
-- is refused). Rows past expires_at (unix seconds) are useless and deleted as new ones come.
CREATE TABLE oauth_spent_states (
    state_id   VARCHAR(64) PRIMARY KEY,
    expires_at BIGINT      NOT NULL
);
CREATE INDEX oauth_spent_states_expiry ON oauth_spent_states (expires_at);
