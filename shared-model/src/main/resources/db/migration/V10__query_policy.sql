-- A query's policy (deadline, quorum, debate) as validated at send time, so a query whose
-- workflow start was lost is started later by the sweeper with the same policy.
ALTER TABLE queries ADD COLUMN policy jsonb;
