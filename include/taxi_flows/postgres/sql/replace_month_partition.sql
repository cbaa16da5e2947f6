-- Swap a freshly loaded month in for the old one, in one short transaction after COPY filled
-- {loading} and the month passed its checks: readers see either the old rows or the new ones,
-- never a mix, and a failure before COMMIT changes nothing. The parent is locked first, always:
-- every load takes the same locks in the same order, so concurrent months never deadlock.
-- {loading} carries CHECK (source_month = {month}): ATTACH trusts it and skips the scan.
LOCK TABLE {parent} IN ACCESS EXCLUSIVE MODE;
DROP TABLE IF EXISTS {partition};
ALTER TABLE {loading} RENAME TO {partition_name};
ALTER TABLE {parent} ATTACH PARTITION {partition} FOR VALUES IN ({month});
