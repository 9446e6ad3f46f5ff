-- Administrators' announcements (the console, `simul announce`). The
-- running server takes each one once (`taken_ms`) and shows it to whom
-- `audience` names who are online then (`reached` of them):
--   audience_kind 'everyone': `audience` is empty;
--   'group': `audience` is the directory group's DN;
--   'users': `audience` is the realm's user ids, one a line.
CREATE TABLE announcements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    sender TEXT NOT NULL,
    audience_kind TEXT NOT NULL CHECK (audience_kind IN ('everyone', 'group', 'users')),
    audience TEXT NOT NULL,
    text TEXT NOT NULL,
    taken_ms INTEGER,
    reached INTEGER
) STRICT;
CREATE INDEX announcements_pending ON announcements (seq) WHERE taken_ms IS NULL;
