-- Deleting a file's message (or a sending that failed) removes its bytes
-- when no other sending shares them: that question is asked by content.
CREATE INDEX files_by_content ON files (sha256);
