-- When a won deal was invoiced and its cash received (SPEC C9: paid on invoice or on cash), as
-- ops record them from the finance system. A plan paid on invoice or cash counts a credit in the
-- period of that date and holds it until the date is known. One row a deal; the same table,
-- columns and names in both engines.
CREATE TABLE deal_billing (
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    opportunity_id  INTEGER NOT NULL REFERENCES opportunity,
    invoiced_on     TEXT,
    paid_on         TEXT,
    PRIMARY KEY (organisation_id, opportunity_id)
);
