-- Messages kept for a recipient who had no session when they were sent:
-- handed to them at their next sign-in, on whichever door (pending = 1
-- until then). Ids are now given by the community in the order it accepted
-- the messages (no longer by the insert), so history and archive pages
-- follow `id` alone.
ALTER TABLE messages ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_missed ON messages (recipient, id) WHERE pending = 1;
-- A user's whole archive (XMPP message archive queries without a partner)
-- reads both sides: messages_by_pair serves the sender's, this the
-- recipient's.
CREATE INDEX messages_by_recipient ON messages (recipient, id);
