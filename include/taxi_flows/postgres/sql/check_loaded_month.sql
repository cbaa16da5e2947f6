-- The rows as written, to reconcile with the stream: all of them (the file's rows), and those the
-- course's cleaning keeps (what the view <color>_tripdata_clean shows of the month).
SELECT count(*) AS rows_written,
       count(*) FILTER (WHERE passenger_count > 0 AND trip_distance > 0) AS rows_clean
FROM {loading};
