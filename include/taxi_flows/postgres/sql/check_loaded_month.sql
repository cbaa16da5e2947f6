-- The course's assertions, on the rows as written: every row has passenger_count > 0 and
-- trip_distance > 0 (a NULL counts as a failure), and the row count reconciles with the stream.
SELECT count(*) AS rows_written,
       count(*) FILTER (WHERE NOT coalesce(passenger_count > 0 AND trip_distance > 0, false)) AS rows_not_positive
FROM {loading};
