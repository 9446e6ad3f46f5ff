-- Full-text search over what was said, 1:1 and n-way: one FTS5 index
-- whose rowid is the message id (the community numbers both kinds in one
-- sequence). Contentless (the text stays in `messages` and
-- `nway_messages` only, not twice), with deletes allowed so that an edit
-- or a delete takes the old words out. unicode61 folds case and, with
-- remove_diacritics 2, accents (“café” finds “cafe” and back) in every
-- script it knows; the prefix indexes answer the last word as it is
-- typed (two and three letters) without walking every word.
CREATE VIRTUAL TABLE message_search USING fts5(
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- The index follows every write of a message's text: a new message, an
-- edit (or a delete that blanks it) and a removed row.
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
END;
CREATE TRIGGER nway_messages_search_insert AFTER INSERT ON nway_messages BEGIN
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER nway_messages_search_update AFTER UPDATE OF text ON nway_messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER nway_messages_search_delete AFTER DELETE ON nway_messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
END;

-- What was said before this version.
INSERT INTO message_search (rowid, text) SELECT id, text FROM messages;
INSERT INTO message_search (rowid, text) SELECT id, text FROM nway_messages;
