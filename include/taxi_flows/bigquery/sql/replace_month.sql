-- Replace one source month of the final table with the staged rows, in one statement (atomic in
-- BigQuery): the month's old rows go, the staged rows come, other months are not touched. The
-- columns by name: a table that gained a column (ALTER TABLE … ADD COLUMN) has it last, the staging
-- table in the schema's order.
MERGE `{final}` AS target
USING `{staging}` AS source
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.source_month = DATE '{month}' THEN
  DELETE
WHEN NOT MATCHED BY TARGET AND source.source_month = DATE '{month}' THEN
  INSERT ({columns}) VALUES ({values})
