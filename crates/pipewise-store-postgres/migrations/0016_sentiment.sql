-- Capture's sentiment (SPEC C4, issue 15): each captured message's score (thousandths of -1..1)
-- with the words that made it, and the reps' +/- ratings that retrain the vocabulary. A score
-- is derived data (it can be recomputed); a rating is a person's judgement, kept until changed.
-- The same tables, columns and names as the other engine's migration of the same name.
CREATE TABLE activity_sentiment (
    activity_id     BIGINT NOT NULL PRIMARY KEY REFERENCES activity,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    score           INTEGER NOT NULL CHECK (score BETWEEN -1000 AND 1000),
    words           TEXT NOT NULL
);
CREATE INDEX activity_sentiment_score ON activity_sentiment (organisation_id, score);

CREATE TABLE activity_rating (
    activity_id     BIGINT NOT NULL REFERENCES activity,
    user_id         BIGINT NOT NULL REFERENCES app_user,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    rating          INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    rated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (activity_id, user_id)
);
CREATE INDEX activity_rating_order ON activity_rating (organisation_id, rated_at, activity_id, user_id);
