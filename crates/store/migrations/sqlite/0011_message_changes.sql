-- Messages change after they are sent: their author edits them (the text
-- is replaced, `edited_at` says when) or deletes them (the text is blanked
-- so nothing of it stays, `deleted` = 1); anyone in the conversation
-- reacts to them with an emoji.
ALTER TABLE messages ADD COLUMN edited_at TEXT;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nway_messages ADD COLUMN edited_at TEXT;
ALTER TABLE nway_messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

-- One row per user, message and emoji. Message ids are one sequence over
-- 1:1 and n-way messages, so `message` names either kind.
CREATE TABLE reactions (
    message INTEGER NOT NULL,
    user TEXT NOT NULL,
    emoji TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (message, user, emoji)
) STRICT;

-- A user's own settings, by name (`read_receipts`: whether others see how
-- far they read; on unless set to 'false').
CREATE TABLE user_settings (
    user TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user, key)
) STRICT;
