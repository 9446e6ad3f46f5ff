-- The LDAP name cache as of the last refresh that worked, one row a person
-- (`document`: the person and their login names as JSON), so that known
-- people can be looked up, shown and reached after a restart while LDAP
-- does not answer.
CREATE TABLE directory_snapshot (
    repository TEXT NOT NULL,
    dn TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (repository, dn)
) STRICT;
