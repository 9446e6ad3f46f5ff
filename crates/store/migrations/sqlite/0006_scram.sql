-- SCRAM credentials (RFC 5802, 7677) of embedded-realm users, for XMPP
-- clients: salt, iteration count, StoredKey and ServerKey per hash
-- (`sha1:...;sha256:...`), derived from the password whenever it is set or
-- checked; never the password nor anything that logs in as it. Empty until
-- then: users from before this version get theirs at their next login.
ALTER TABLE users ADD COLUMN scram TEXT NOT NULL DEFAULT '';
