-- Who took part in each n-way chat (started or joined it, and has not
-- left it): they keep the chat among their conversations, and may read
-- its history and files, after it ended or went on without them (a
-- restart ends every chat). Leaving a chat takes it away.
CREATE TABLE nway_participants (
    chat INTEGER NOT NULL REFERENCES nway_chats (id),
    user TEXT NOT NULL,
    PRIMARY KEY (chat, user)
) STRICT, WITHOUT ROWID;
CREATE INDEX nway_participants_by_user ON nway_participants (user, chat);

-- Chats from before: their creators and those who said something.
INSERT OR IGNORE INTO nway_participants (chat, user) SELECT id, creator FROM nway_chats;
INSERT OR IGNORE INTO nway_participants (chat, user)
    SELECT DISTINCT chat, sender FROM nway_messages;
