-- Tokens that still verify but that Simul no longer accepts (LTPA tokens
-- carry no session a server could end):
--   kind 'token': one token, logged out; `subject` is the hex SHA-256 of what
--     identifies it, `user` its user, `at_ms` its expiry (the row can go
--     after that);
--   kind 'user': every token of user `subject` issued before `at_ms` (a
--     password change, a disabled or removed account).
-- `seq` grows with every row written, so a running server picks up what
-- the command line wrote since it last looked.
CREATE TABLE revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('token', 'user')),
    subject TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    at_ms INTEGER NOT NULL,
    UNIQUE (kind, subject)
) STRICT;
