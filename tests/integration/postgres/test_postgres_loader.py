"""The loader's building blocks against the session's PostgreSQL."""

import datetime as dt
import threading

import pyarrow as pa
import pytest
from psycopg import sql

from taxi_flows import settings
from taxi_flows.postgres import binary, load
from taxi_flows.postgres.web_to_postgres import web_to_postgres

pytestmark = pytest.mark.integration


def test_binary_copy_round_trips_every_type_and_null(pg):
    batch = pa.record_batch(
        {
            "i": pa.array([1, None, -(2**62), 0], pa.int64()),
            "f": pa.array([1.25, None, -0.0, 1e300]),
            "t": pa.array(
                [
                    dt.datetime(2021, 1, 1, 0, 30, 10),
                    dt.datetime(1999, 12, 31, 23, 59, 59, 999_999),
                    None,
                    dt.datetime(2008, 12, 31, 1, 2, 3),
                ],
                pa.timestamp("us"),
            ),
            "d": pa.array([dt.date(2021, 1, 1), None, dt.date(1970, 1, 1), dt.date(1999, 12, 31)], pa.date32()),
            "s": pa.array(["N", "", None, 'Flushing Meadows-Corona Park, "Queens"\n']),
        }
    )
    pg.execute("CREATE TEMP TABLE rt (i bigint, f double precision, t timestamp, d date, s text)")
    with pg.transaction():
        load.copy_batches(pg, sql.Identifier("rt"), batch.schema.names, [batch, batch.slice(1, 2)], freeze=False)
    got = pg.execute("SELECT i, f, t, d, s FROM rt").fetchall()
    expected = [tuple(r.values()) for r in batch.to_pylist()] + [
        tuple(r.values()) for r in batch.slice(1, 2).to_pylist()
    ]
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert len(binary.HEADER) == 19


def test_concurrent_loads_of_one_month_queue_up_and_never_duplicate(stack, pg):
    import psycopg

    def load():
        with psycopg.connect(stack.s.pg_uri(stack.s.target_db), autocommit=True) as conn:
            results.append(
                web_to_postgres(conn, stack.s.source_base_url, "green", dt.date(2020, 11, 1), settings.POSTGRES_SCHEMA)
            )

    results: list[dict] = []
    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    written = {r["rows_written"] for r in results}
    assert len(written) == 1
    assert pg.execute("SELECT count(*) FROM ny_taxi.green_tripdata").fetchone()[0] == written.pop()
    assert sorted(r["rows_replaced"] for r in results)[0] == 0


def test_a_table_that_is_not_partitioned_is_not_overwritten(pg, stack):
    pg.execute("CREATE SCHEMA ny_taxi; CREATE TABLE ny_taxi.yellow_tripdata (vendor_id bigint)")
    with pytest.raises(RuntimeError, match="exists but is not partitioned by source_month"):
        web_to_postgres(pg, stack.s.source_base_url, "yellow", dt.date(2020, 1, 1), settings.POSTGRES_SCHEMA)
    columns = pg.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'yellow_tripdata'")
    assert columns.fetchall() == [("vendor_id",)]
