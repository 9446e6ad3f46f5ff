-- A password someone else chose (the first admin's, printed once at first
-- start) must be replaced by its owner before the account can do anything else.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
