"""Everything BigQuery is written with: the tables and their resources, the month-replacing MERGE
(sql/replace_month.sql), the load plan of taxi_gcs_to_bigquery, and the row counts it reconciles."""
