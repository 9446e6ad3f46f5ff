-- New messages are indexed for search a thousand or so at a time, not in
-- the transaction that keeps them: FTS5 writes a segment of its index at
-- every commit and merges them as they pile up, which was a third of the
-- time of each group commit of messages (BENCHMARKS.md, "The search index
-- out of the message path"). A new message's id waits here, in the same
-- transaction as the message (so a crash loses none), until the store
-- indexes the queue: after enough messages, when it opens, and before
-- every search, so a search still finds the message just sent.
CREATE TABLE search_queue (
    id INTEGER PRIMARY KEY
) STRICT;

DROP TRIGGER IF EXISTS messages_search_insert;
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search_queue (id) VALUES (new.id);
END;
DROP TRIGGER IF EXISTS nway_messages_search_insert;
CREATE TRIGGER nway_messages_search_insert AFTER INSERT ON nway_messages BEGIN
    INSERT INTO search_queue (id) VALUES (new.id);
END;

-- An edit of a message still queued leaves the index alone: the queue
-- indexes its text as it is then (indexing it now too would index it
-- twice). Deleting a row takes it out of both; taking out of the index a
-- row it does not have finds nothing to take.
DROP TRIGGER IF EXISTS messages_search_update;
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
WHEN NOT EXISTS (SELECT 1 FROM search_queue WHERE id = old.id) BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
DROP TRIGGER IF EXISTS messages_search_delete;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
    DELETE FROM search_queue WHERE id = old.id;
END;
DROP TRIGGER IF EXISTS nway_messages_search_update;
CREATE TRIGGER nway_messages_search_update AFTER UPDATE OF text ON nway_messages
WHEN NOT EXISTS (SELECT 1 FROM search_queue WHERE id = old.id) BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
    INSERT INTO message_search (rowid, text) VALUES (new.id, new.text);
END;
DROP TRIGGER IF EXISTS nway_messages_search_delete;
CREATE TRIGGER nway_messages_search_delete AFTER DELETE ON nway_messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
    DELETE FROM search_queue WHERE id = old.id;
END;
