-- Who holds the administrator role (the console, the admin commands).
-- Users may be LDAP users (their DN), so no foreign key to `users`.
CREATE TABLE admins (
    user TEXT PRIMARY KEY NOT NULL,
    granted_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The first start's `admin` of a deployment from before had the role.
INSERT INTO admins (user, granted_ms)
    SELECT id, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM users WHERE id = 'admin';

-- Every administrator's act, from the console or the command line: who
-- (`actor`, a user id or the system user of a command), when, what
-- (`action` and its `target`) and from where (`origin`: the console
-- client's address, or `command line (uid N)`). Kept, never rewritten.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_time ON audit (at_ms);
