"""Everything PostgreSQL is written with: the tables' DDL, the binary COPY encoder, the partition
swap (and its SQL files), the connection from Airflow's, and the web -> PostgreSQL use case."""
