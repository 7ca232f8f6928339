-- Who was on which team from which day (SPEC C6: a past day's team figures keep the team each
-- rep was on that day; pay books a team's revenue by the team at the booking day). The
-- application writes a row whenever a user's team is set, on the organisation's day of the
-- change; a second change the same day replaces the row. A team of NULL: on no team from then.
-- The same table, columns and names in both engines.
CREATE TABLE team_membership (
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    user_id         BIGINT NOT NULL REFERENCES app_user,
    from_day        DATE   NOT NULL,
    team_id         BIGINT REFERENCES team,
    PRIMARY KEY (organisation_id, user_id, from_day)
);

-- Everyone stays on the team they are on now for every day before this migration.
INSERT INTO team_membership (organisation_id, user_id, from_day, team_id)
SELECT organisation_id, user_id, '1900-01-01', team_id FROM app_user;
