-- How far each user read each of their conversations ('im:<user id>' or
-- 'nway:<chat id>'): the last message id read. Messages after it from
-- others are unread, on every device of the user.
CREATE TABLE read_marks (
    owner TEXT NOT NULL,
    conversation TEXT NOT NULL,
    last_read INTEGER NOT NULL,
    PRIMARY KEY (owner, conversation)
) STRICT;
