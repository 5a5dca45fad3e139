-- Version 2 (issue 9, item 9): each callback's secret, as its SHA-256 (NULL for callbacks
-- made before: only agents reach those).
ALTER TABLE callbacks ADD COLUMN secret_hash TEXT;
