-- Qualifying a lead beyond BANT (SPEC C10, issue 14): the six questions' answers (JSON the
-- application layer writes: {"expectations": "yes", …}), their score and verdict, who answered
-- last and when. The same table, columns and names as the other engine's migration.
CREATE TABLE lead_qualification (
    lead_id         INTEGER PRIMARY KEY REFERENCES lead,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    answers         TEXT NOT NULL,
    score           INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    verdict         TEXT NOT NULL CHECK (verdict IN ('qualified', 'not_a_fit', 'keep_qualifying')),
    updated_by      INTEGER REFERENCES app_user,
    updated_at      INTEGER NOT NULL
);
