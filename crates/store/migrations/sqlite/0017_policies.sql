-- Policies (what users may do: n-way chats, files, contacts, history...).
-- `default` and `anonymous` always exist; custom ones are assigned to
-- users or directory groups with a weight (the heaviest wins).
CREATE TABLE policies (
    name TEXT PRIMARY KEY NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- What each policy sets (`key` a setting, `value` its text: yes, no, a
-- number or unlimited). A setting a custom policy leaves out is default's.
CREATE TABLE policy_settings (
    policy TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (policy, key)
) STRICT, WITHOUT ROWID;

-- Who a custom policy is assigned to: a user id or a group DN (any case).
CREATE TABLE policy_assignments (
    policy TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    assignee TEXT NOT NULL COLLATE NOCASE,
    weight INTEGER NOT NULL,
    PRIMARY KEY (policy, kind, assignee)
) STRICT, WITHOUT ROWID;

-- Counts changes, so that a running server reads the policies again
-- only when a command or the console changed them.
CREATE TABLE policy_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;

INSERT INTO policies (name, created_ms) VALUES ('default', 0), ('anonymous', 0);
INSERT INTO policy_version (id, version) VALUES (1, 0);
