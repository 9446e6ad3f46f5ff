-- Files sent in conversations. The bytes are under the data directory,
-- content-addressed (files/<2 hex>/<62 hex> of their SHA-256), so a file
-- sent twice is kept once; a row is one sending: who sent it where, and
-- the message that carries it (NULL for the moment between keeping the
-- row and the message being accepted).
CREATE TABLE files (
    id TEXT PRIMARY KEY NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploader TEXT NOT NULL,
    conversation TEXT NOT NULL,
    message INTEGER,
    at TEXT NOT NULL
) STRICT;

CREATE INDEX files_by_message ON files (message);
