-- Swap a freshly loaded month in for the old one. Runs at the end of the load's transaction,
-- after COPY filled {loading} and the month passed its checks, so readers see either the old
-- rows or the new ones, never a mix, and a failure anywhere before COMMIT changes nothing.
-- {loading} carries CHECK (source_month = {month}): ATTACH trusts it and skips the scan.
DROP TABLE IF EXISTS {partition};
ALTER TABLE {loading} RENAME TO {partition_name};
ALTER TABLE {parent} ATTACH PARTITION {partition} FOR VALUES IN ({month});
