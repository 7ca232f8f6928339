-- Accounts and contacts ordered and found by name at any size, and the industries and regions
-- a list's filters offer read from an index (issue 11): each row keeps its
-- name in lower case (Unicode's, which SQL's lower() is not), written by the application beside
-- the name, with an index in that order. The rows written before are keyed by the step that
-- follows the migrations. The same columns and names as the other engine's migration.
ALTER TABLE account ADD COLUMN name_key TEXT;
ALTER TABLE contact ADD COLUMN name_key TEXT;
CREATE INDEX account_name_key ON account (organisation_id, name_key, account_id);
CREATE INDEX contact_name_key ON contact (organisation_id, name_key, contact_id);
CREATE INDEX account_industry ON account (organisation_id, industry);
CREATE INDEX account_region ON account (organisation_id, region);
