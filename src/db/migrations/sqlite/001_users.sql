-- Accounts and refresh tokens (src/auth). Times a person reads are RFC 3339 UTC text; times the
-- server compares (lockout, token expiry) are unix seconds. Indexed text columns are VARCHAR with
-- a length so the same statements suit MySQL, which cannot index unbounded TEXT.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         VARCHAR(254) NOT NULL UNIQUE,
    name          VARCHAR(200) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role          VARCHAR(16)  NOT NULL DEFAULT 'USER' CHECK (role IN ('USER', 'MANAGER', 'ADMIN')),
    status        VARCHAR(16)  NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED', 'DELETED')),
    failed_logins INTEGER      NOT NULL DEFAULT 0,
    locked_until  BIGINT       NULL,
    created_at    VARCHAR(32)  NOT NULL,
    updated_at    VARCHAR(32)  NOT NULL
);

-- A refresh token is stored only as the SHA-256 hex of its value. Tokens issued by rotating one
-- another share a family_id, so reuse of an old token can revoke the whole chain at once.
CREATE TABLE refresh_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    family_id   VARCHAR(64) NOT NULL,
    token_hash  CHAR(64)    NOT NULL UNIQUE,
    expires_at  BIGINT      NOT NULL,
    used_at     BIGINT      NULL,
    revoked_at  BIGINT      NULL,
    created_at  VARCHAR(32) NOT NULL
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
