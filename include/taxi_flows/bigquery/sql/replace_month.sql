-- Replace one source month of the final table with the staged rows, in one statement (atomic in
-- BigQuery): the month's old rows go, the staged rows come, other months are not touched.
MERGE `{final}` AS target
USING `{staging}` AS source
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.source_month = DATE '{month}' THEN
  DELETE
WHEN NOT MATCHED BY TARGET AND source.source_month = DATE '{month}' THEN
  INSERT ROW
