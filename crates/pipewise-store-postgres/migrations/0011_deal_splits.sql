-- Deal splits (SPEC C9): who is credited with a deal, and how much. Revenue shares add up to the
-- whole deal; overlay shares (a sales engineer, a specialist) are credited on top. A deal without
-- splits credits its owner with all of it. The same table, columns and names in both engines.
CREATE TABLE deal_split (
    deal_split_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    opportunity_id  BIGINT NOT NULL REFERENCES opportunity,
    user_id         BIGINT NOT NULL REFERENCES app_user,
    kind            TEXT NOT NULL CHECK (kind IN ('revenue', 'overlay')),
    share           NUMERIC NOT NULL,
    UNIQUE (organisation_id, opportunity_id, user_id, kind)
);
CREATE INDEX deal_split_of_user ON deal_split (organisation_id, user_id);
