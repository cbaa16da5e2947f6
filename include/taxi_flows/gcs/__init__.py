"""Everything GCS is written with: the bucket's layout, the storage calls, the Parquet writers, the
web -> GCS use case (one file and the pickup-date dataset) and the daily export."""
