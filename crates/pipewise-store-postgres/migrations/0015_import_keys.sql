-- Imports (SPEC C11, issue 14): which record an import made of a row with an external id, so a
-- re-import of the same export updates that record instead of making another. `system` names
-- where the ids come from (salesforce, hubspot, pipedrive, or what the importer said), so two
-- systems' ids never collide. The same table, columns and names as the SQLite migration of
-- the same name.
CREATE TABLE import_key (
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    record_kind     TEXT NOT NULL CHECK (record_kind IN ('account', 'contact', 'opportunity', 'lead', 'activity')),
    system          TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    record_id       BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, record_kind, system, external_id)
);
