-- N-way chats and what was said in them. Ids come from the community and
-- continue after the highest recorded one, so they never repeat.
CREATE TABLE nway_chats (
    id INTEGER PRIMARY KEY NOT NULL,
    topic TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE nway_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat INTEGER NOT NULL REFERENCES nway_chats (id),
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX nway_messages_by_chat ON nway_messages (chat, id);
