"""
### NYC taxi trips from the web into PostgreSQL

**Run it from the UI.** *Trigger* (▷), pick the month in **Month** (the sources' months, newest
first; its description says which months each trip type has) and the trip types in **colors**, then
*Trigger*: the logical date does not matter then. Trigger the same month again to load it again: the
new run replaces the month, never adds to it. For several months, *Trigger* → **Backfill**: from the
first day of the first month to the first day of the last (both included), **Max Active Runs** 3
(the dialog's 1 runs one month at a time). The run's note, on its page and in the grid, names the
month it loads and, if it fails, why. A paused DAG's runs wait: unpause it (unpausing also starts a
catch-up over every month since 2019-01, three at a time, unless `TAXI_CATCHUP=false`).

The Zoomcamp's `api_to_postgres` pipeline, one run per month and trip type.

**Trip types and sources.** `params.colors`: `yellow`, `green` (default), `fhv`, `fhvhv`. A month comes
from the DataTalksClub mirror where it has it (2019-01 … 2021-07; fhvhv from 2019-02), from the TLC's
Parquet files (Variable `taxi_tlc_base_url`) otherwise, any month from 2009-01 (green 2014, fhv 2015,
fhvhv 2019-02) to the latest published; `{"source": "tlc"}` or `{"source": "datatalksclub"}` in the
conf forces one. Each period's file layout maps onto the type's table through the table in
`include/taxi_flows/core/layouts.py`: a column it does not know fails the load naming it; a value
that does not fit its column fails naming column, month and value. `wait_until_published` waits (a
sensor in reschedule mode, no worker slot held) while the TLC answers 403 for a month it has not
published, up to `TAXI_PUBLICATION_WAIT_DAYS` (120) after the month ended, then fails naming the URL.

**Which month.** A manual run loads the month picked in the trigger form (`params.month`; from a
shell, `-c '{"month": "2021-02"}'`). Every other run, and a manual one without a month, loads
the month of its logical date: the run whose logical date is `YYYY-MM-01` loads month `YYYY-MM`:
`airflow dags test taxi_web_to_postgres 2021-01-01` loads January 2021. The timetable has one
run per month from 2019-01 (the course's first) up to the present, each started once its month has
ended (then `wait_until_published` waits for the file): its logical date is 00:00 UTC of the
month's first day and its data interval the month (2021-01-01 → 2021-02-01), for scheduled,
catch-up, backfill and manual runs alike. `TAXI_SCHEDULE_LAST_MONTH` (YYYY-MM) ends the schedule
at that month (the local stack: 2021-07). Months before 2019 run by hand or by backfill. A
manual run without a month whose logical date is not a month's start (2021-01-15, or 2021-02-01
00:00 in a browser east of UTC, which is 2021-01-31 23:00 UTC) fails, saying to pick the month or
which date to set. Backfill any range with
`airflow backfill create --dag-id taxi_web_to_postgres --from-date 2021-01-01 --to-date 2021-03-01`
(January to March).

**Nothing succeeds silently.** A month before 2009-01 or one that has not ended, a trip type
before its first month, a run without a logical date, or a conf key other than `colors`, `month`
and `source` fails the run at once, in its first task and before anything is written (the zone
lookup included), with a message that
names the range or the accepted keys.

**Params.** `colors`: which trip types to load: `yellow`, `green` (the default), `fhv` (For-Hire
Vehicles, the course's module 4), `fhvhv` (High Volume FHVs: Uber, Lyft, Via, Juno; from 2019-02),
e.g. `{"colors": ["fhv"]}` as the run's conf; `load_trips` of a type not asked for is skipped, and
one asked for a month its source does not have (fhvhv 2019-01) fails at once, naming its months.

**Steps** (per trip type, in one task `load_trips`, mapped over the types: `load_trips[yellow]`,
`load_trips[green]`, `load_trips[fhv]`, `load_trips[fhvhv]`):
1. stream `<taxi_source_base_url>/<color>/<color>_tripdata_<YYYY>-<MM>.csv.gz` (retries with
   back-off on network errors and 5xx; a 404, an HTML page, a non-gzip or truncated body, a changed
   header or values of the wrong type fail the task at once, naming the problem);
2. parse with the schema's types and transform as the course does, 1 MB of CSV at a time (memory
   does not grow with the file): snake_case names (`VendorID` → `vendor_id`, `RatecodeID` →
   `ratecode_id`, `PULocationID` → `pu_location_id`, `DOLocationID` → `do_location_id`),
   fhv's `dropOff_datetime` → `dropoff_datetime` (each period's layout: `include/taxi_flows/core/layouts.py`),
   `tpep_pickup_date`/`lpep_pickup_date`/`pickup_date`; every row of the file is kept (the course's cleaning is
   the view below; the log says how many rows each of its rules would remove);
3. COPY (PostgreSQL's binary format, encoded from Arrow in a background thread) into a table of
   the month's own with `CHECK (source_month = <month>)` and check it, without locking
   `ny_taxi.<color>_tripdata`; then, in one short transaction, drop the month's old partition and
   attach the new one. That swap waits at most a second for the table: behind a long query it
   gives way to other readers and tries again (with back-off, for about three minutes), so
   concurrent months never deadlock and readers of other months are not held up. Two runs of one
   month queue on an advisory lock, taken before the download: the second logs every 30 s which
   backend and Airflow run hold the month, and fails after `TAXI_LOCK_WAIT_SECONDS` (1800) naming it.

**Idempotent and atomic.** Every row carries `source_month` and is written once; a re-run or a
backfill replaces exactly the rows of that month's file, whatever their pickup dates; readers see
the old month until the swap commits; a failure anywhere leaves the previous rows in place.

**Failures.** Bad input fails at once, without retries, naming the problem; so do a 403 (the TLC's
answer for a month it has not published yet), a 404, another 4xx but 408 and 429, and a redirect
loop. What a retry can fix is retried, and the log says so in a line ("the server stopped sending
after 12.3 MB for 60 s (read timeout); retrying, try 2 of 4"): connection errors and 5xx by the
download (back-off), a 429 by waiting as long as the server asks (at most 300 s: a longer
Retry-After fails at once, saying so), then by the task (`retries=3`, exponential back-off).

**Every row, reconciled.** Each of the file's data rows is written, the blank tail of dispatch rows
(blank `VendorID`, `passenger_count`, …) and the zero passengers and distances included: the
month's partition holds exactly the file's rows, the figures the TLC publishes and the course's
later modules count. The load checks that the rows written equal the rows read, and that as many of
them pass the course's cleaning as the stream counted; the task log and the load summary give the
source's URL, its compressed and uncompressed bytes, its `Last-Modified` and `ETag`, and what the
course's cleaning would remove ("the course's cleaning … would remove 1,234 with passenger_count
blank or not > 0 and 56 more with trip_distance blank or not > 0").

**Data-quality checks** (on every row; the month fails, nothing is written). A real month's
oddities pass; a file more likely broken than odd does not: at most 2 % of the rows have a
`vendor_id` that is neither blank (the dispatch tail) nor a code of the TLC's dictionary (1, 2, 6, 7;
codes 4 and 5 turn up in a handful of rows); at most 1 % were picked up outside the month
(meter clocks in 2008: a real file has under 0.1 %); at least 20 % of the rows have
`passenger_count > 0` and `trip_distance > 0` (yellow ~90 %, green 2020-2021 ~50 %: a lower share
means an emptied or shifted column).

**Values no meter writes** fail the month whatever their share, naming the column and the count:
NaN or ±Inf in a numeric column, a NUL byte in a text column.

**Plausibility checks** (format drift that still parses; on every row, each count in the log;
each on the columns its trip type has): a pickup or dropoff after the moment of the load: at most
0.1 % (fhv 2019-02 has a dropoff in 3019: kept as it is); a pickup at exactly 00:00:00: at most
1.0 %, and a dropoff at exactly 00:00:00: at most 1.0 % (times without a time of day; by chance 1
row in 86,400); a dropoff before the pickup: at most 1.0 %; a dropoff more than 24 hours after the
pickup: at most 2.0 % (meters left running); `trip_distance` above 1,000 miles: at most 0.5 % (the
dispatch tail has a few; a file in metres has most); a negative `fare_amount`: at most 5.0 %
(refunds are real, a month of them is not); none allowed: `passenger_count` above 9, a location id
not in the zone lookup, a `store_and_fwd_flag` other than Y or N. A file with a header and no rows
fails with "the file has a header line and no rows".

**Bounded work.** A header line over 64 KiB, a data line over 1 MiB, a body that inflates beyond
4 GiB or more than 50 times its compressed size fail at once; a download that receives less than
64 KiB in 120 s fails the try with the bytes received (the next try starts again).

**The zone lookup first.** `load_zone_lookup` checks the lookup before it replaces the table (the
expected header; LocationIDs unique, exactly 1 … 265; boroughs of the TLC's; no NUL byte) and
replaces it in one transaction; a lookup that is not the TLC's fails at once, names what differs and
leaves the table as it was, and the run's `load_trips` do not start (they check every location id
against it).

**Targets.** `ny_taxi.yellow_tripdata`, `ny_taxi.green_tripdata`, `ny_taxi.fhv_tripdata`,
`ny_taxi.fhvhv_tripdata` (every row; one partition per month, e.g. `yellow_tripdata_2021_01`;
every column commented), and the views
`ny_taxi.yellow_tripdata_clean`, `ny_taxi.green_tripdata_clean`: the course's cleaning, the rows
with `passenger_count > 0 AND trip_distance > 0` (the 2024 homework's "rows after removing
passenger_count = 0 or trip_distance = 0"), created with the tables. `load_zone_lookup` replaces
`ny_taxi.taxi_zone_lookup` from `misc/taxi_zone_lookup.csv`.

**Configuration.** Connection `taxi_postgres`; Variable `taxi_source_base_url` (default: the
DataTalksClub releases); pool `taxi_postgres` (loads share it, sized for the database).

**Code.** `include/taxi_flows/postgres/`: `web_to_postgres.py` (the use case), `load.py` (the
partition swap), `tables.py` (the DDL); checks in `include/taxi_flows/core/quality.py`.
"""

from __future__ import annotations

from taxi_flows import settings
from taxi_flows.core.schema import COLORS
from taxi_flows.orchestration import assets, dag_defaults, tasks, waits
from taxi_flows.orchestration.compat import dag, get_current_context, run_type, task
from taxi_flows.orchestration.runs import check_conf, run_month, skip_unless_selected


@dag(
    dag_id="taxi_web_to_postgres",
    doc_md=__doc__,
    description="NYC taxi trips, one month a run, from the DataTalksClub releases into PostgreSQL",
    tags=["zoomcamp", "nyc-taxi", "postgres"],
    schedule=dag_defaults.monthly_timetable(),
    **dag_defaults.monthly_dag_args(),
)
def taxi_web_to_postgres():
    @task(pool=settings.POSTGRES_POOL)
    def load_zone_lookup(base_url: str) -> int:
        return tasks.load_zones_to_postgres(base_url)

    @task(
        pool=settings.POSTGRES_POOL,
        max_active_tis_per_dag=settings.HEAVY_TASKS_PER_DAG,
        map_index_template="{{ color }}",
        outlets=[assets.postgres_trips()],
    )
    def load_trips(
        color: str, base_url: str, tlc_base_url: str, logical_date=None, params=None, dag_run=None, outlet_events=None
    ) -> dict:
        check_conf(dag_run, params)
        get_current_context()["color"] = color  # type: ignore[typeddict-unknown-key]  # the map index
        skip_unless_selected(color, params["colors"])
        source = params.get("source")
        month = run_month(logical_date, params, run_type(dag_run), color, source)
        return tasks.load_trips_to_postgres(color, base_url, month, outlet_events, dag_run, tlc_base_url, source)

    @task.sensor(**dag_defaults.publication_sensor_args())
    def wait_until_published(tlc_base_url: str, logical_date=None, params=None, dag_run=None) -> bool:
        check_conf(dag_run, params)
        return waits.wait_until_published(
            params["colors"], tlc_base_url, logical_date, params.get("source"), params, run_type(dag_run)
        )

    # The first task checks what the run asks for, and waits for the TLC to publish the month (a
    # month of the mirror does not wait): a run that asks for what no source has fails there,
    # before the zone lookup is replaced. Then the zone lookup: the trips' location ids are checked
    # against it, a bad one stops them. load_trips is mapped over the colours as a literal list: the
    # run's task instances exist from its start (Airflow 2's backfill fails on tasks expanded at run
    # time); a colour not in params.colors is skipped.
    published = wait_until_published(settings.TLC_BASE_URL_TEMPLATE)
    zones = load_zone_lookup(settings.BASE_URL_TEMPLATE)
    urls = {"base_url": settings.BASE_URL_TEMPLATE, "tlc_base_url": settings.TLC_BASE_URL_TEMPLATE}
    published >> zones >> load_trips.partial(**urls).expand(color=list(COLORS))


taxi_web_to_postgres()
