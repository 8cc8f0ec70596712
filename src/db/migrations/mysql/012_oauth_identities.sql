-- Social login (issue 15), as migrations/sqlite/012_oauth_identities.sql: which account each
-- person at an OAuth2 / OpenID Connect provider is (by the provider's stable `subject`), and the
-- states whose callback has been taken, each spent once.
CREATE TABLE oauth_identities (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    provider   VARCHAR(32)  NOT NULL,
    subject    VARCHAR(255) NOT NULL,
    user_id    BIGINT       NOT NULL,
    email      VARCHAR(254) NOT NULL,
    created_at VARCHAR(32)  NOT NULL,
    CONSTRAINT oauth_identities_subject UNIQUE (provider, subject),
    CONSTRAINT oauth_identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
CREATE INDEX oauth_identities_user ON oauth_identities (user_id);

CREATE TABLE oauth_spent_states (
    state_id   VARCHAR(64) NOT NULL PRIMARY KEY,
    expires_at BIGINT      NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
CREATE INDEX oauth_spent_states_expiry ON oauth_spent_states (expires_at);
