-- The rows as written, to reconcile with the stream: all of them (the file's rows), and those the
-- course's cleaning keeps (what the view <color>_tripdata_clean shows of the month; NULL for a
-- trip type the course does not clean).
SELECT count(*) AS rows_written,
       {rows_clean} AS rows_clean
FROM {loading};
