-- Accounts and refresh tokens (src/auth), in the MySQL dialect: the same tables, keys and checks
-- as migrations/sqlite/001_users.sql. Every table is InnoDB in utf8mb4 with a binary collation
-- that keeps trailing blanks (utf8mb4_nopad_bin): text compares byte for byte, as in SQLite, so
-- the unique keys refuse exactly what SQLite's refuse. Integer keys that number themselves are
-- BIGINT AUTO_INCREMENT (SQLite's INTEGER PRIMARY KEY).

CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email         VARCHAR(254) NOT NULL,
    -- Searched with LIKE by administrators: case-insensitive, as SQLite's LIKE is for ASCII.
    name          VARCHAR(200) COLLATE utf8mb4_unicode_nopad_ci NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role          VARCHAR(16)  NOT NULL DEFAULT 'USER',
    status        VARCHAR(16)  NOT NULL DEFAULT 'ACTIVE',
    failed_logins INTEGER      NOT NULL DEFAULT 0,
    locked_until  BIGINT       NULL,
    created_at    VARCHAR(32)  NOT NULL,
    updated_at    VARCHAR(32)  NOT NULL,
    CONSTRAINT users_email UNIQUE (email),
    CONSTRAINT users_role_known CHECK (role IN ('USER', 'MANAGER', 'ADMIN')),
    CONSTRAINT users_status_known CHECK (status IN ('ACTIVE', 'DISABLED', 'DELETED'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- A refresh token is stored only as the SHA-256 hex of its value. Tokens issued by rotating one
-- another share a family_id, so reuse of an old token can revoke the whole chain at once.
CREATE TABLE refresh_tokens (
    id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id     BIGINT      NOT NULL,
    family_id   VARCHAR(64) NOT NULL,
    token_hash  CHAR(64)    NOT NULL,
    expires_at  BIGINT      NOT NULL,
    used_at     BIGINT      NULL,
    revoked_at  BIGINT      NULL,
    created_at  VARCHAR(32) NOT NULL,
    CONSTRAINT refresh_tokens_hash UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
