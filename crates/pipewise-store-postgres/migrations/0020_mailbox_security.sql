-- How mailbox sync secures its connection (issue 15): `tls` (TLS from the first byte, as on
-- port 993) or `starttls` (plain, upgraded with STARTTLS before logging in). The same column
-- as the other engine's migration of the same name.
ALTER TABLE mailbox ADD COLUMN security TEXT NOT NULL DEFAULT 'starttls';
