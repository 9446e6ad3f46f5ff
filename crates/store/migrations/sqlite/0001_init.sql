-- Users of the embedded realm. `id` is the login name (the community's UserId).
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    mail TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    photo_url TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
) STRICT;

-- A user's contact list, read and written whole (GET/PUT /api/v1/contacts),
-- as JSON {"groups": [{"name": ..., "contacts": [...]}]}. Owners may be LDAP
-- users, so no foreign key to `users`.
CREATE TABLE contact_lists (
    owner TEXT PRIMARY KEY NOT NULL,
    document TEXT NOT NULL
) STRICT;

-- 1:1 instant messages, for history.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX messages_by_pair ON messages (sender, recipient, id);

-- Small named settings of the deployment.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
