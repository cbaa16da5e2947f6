import pytest

from taxi_flows.core import quality
from taxi_flows.core.transform import TripStats


def stats(**counts) -> TripStats:
    base = {"rows_read": 1000, "rows_clean": 900}
    return TripStats(color="yellow", month="2021-01", **{**base, **counts})


def test_a_real_looking_month_passes():
    assert quality.problems(stats(unknown_vendor=5, out_of_month_pickups=2), rows_written=1000) == []


def test_the_raw_files_normal_oddities_pass():
    # A green month of 2020-2021: half its rows are the blank dispatch tail, with zero passengers and
    # distances besides; vendor codes of the TLC's 2025 dictionary (6, 7) count as known (not here).
    green = stats(rows_clean=480, blank_vendor=450, cleaning_removes_passenger_count=470)
    assert quality.problems(green, rows_written=1000, rows_clean_written=480) == []


def test_a_real_months_odd_rows_pass_the_plausibility_checks():
    # Meters left running and clocks set wrong: a real month has a few of these (TLC 2019-2021).
    odd = {"pickup_at_midnight": 1, "dropoff_before_pickup": 2, "longer_than_a_day": 9, "too_long_distance": 4}
    odd["negative_fares"] = 8  # refunds
    assert quality.problems(stats(**odd), rows_written=1000) == []


def test_a_for_hire_month_has_no_cleaning_and_keeps_its_3019_dropoff():
    # fhv 2019-02 (23M rows) has a dropoff in the year 3019: kept as it is, not a failed month.
    fhv = TripStats(color="fhv", month="2019-02", rows_read=100_000, future_times=1)
    assert fhv.rows_clean is None
    assert quality.problems(fhv, rows_written=100_000, rows_clean_written=None) == []


@pytest.mark.parametrize(
    ("counts", "written", "clean_written", "expected"),
    [
        ({"unknown_vendor": 21}, 1000, None, r"21 of 1,000 rows \(2.10%\) have a vendor_id other than 1, 2, 6, 7"),
        ({"out_of_month_pickups": 11}, 1000, None, "pickup outside 2021-01"),
        ({"rows_clean": 100}, 1000, None, r"only 100 of 1,000 rows \(10.0%\) have passenger_count > 0"),
        ({"rows_clean": 0}, 1000, None, "only 0 of 1,000 rows"),
        ({"rows_read": 0, "rows_clean": 0}, 0, None, "header and no rows"),
        ({}, 999, None, "999 rows were written but the file has 1,000"),
        ({}, 1000, 897, "897 written rows pass the course's cleaning but 900 of the file's do"),
        ({"pickup_at_midnight": 11}, 1000, None, r"a pickup at exactly 00:00:00 in 11 of 1,000 rows \(1.10%; maximum"),
        ({"dropoff_at_midnight": 11}, 1000, None, r"a dropoff at exactly 00:00:00 in 11 of 1,000 rows"),
        ({"negative_fares": 51}, 1000, None, r"a negative fare_amount in 51 of 1,000 rows \(5.10%; maximum 5.0%\)"),
        ({"non_finite": {"fare_amount": 2}}, 1000, None, "fare_amount: 2 values that are NaN or infinite"),
        ({"nul_bytes": {"store_and_fwd_flag": 1}}, 1000, None, "store_and_fwd_flag: a NUL byte in 1 of its values"),
        ({"future_times": 3}, 1000, None, r"a pickup or dropoff after the moment of the load in 3 of 1,000 rows"),
        ({"dropoff_before_pickup": 11}, 1000, None, "a dropoff before the pickup in 11 of 1,000"),
        ({"longer_than_a_day": 21}, 1000, None, "more than 24 hours after the pickup in 21 of 1,000"),
        ({"too_long_distance": 6}, 1000, None, r"trip_distance above 1,000 miles in 6 of 1,000 rows \(0.60%"),
        (
            {"too_many_passengers": 1},
            1000,
            None,
            r"passenger_count above 9 in 1 of 1,000 rows \(0.10%; a real month has none\)",
        ),
        ({"unknown_zones": 1}, 1000, None, "not in the zone lookup in 1 of 1,000"),
        ({"unknown_store_and_fwd_flag": 1}, 1000, None, "store_and_fwd_flag other than Y or N in 1 of 1,000"),
    ],
)
def test_checks_fail_with_a_sentence(counts, written, clean_written, expected):
    with pytest.raises(quality.DataQualityError, match=expected):
        quality.check(stats(**counts), written, clean_written)


def _doc(dag: str) -> str:
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "dags" / f"{dag}.py").read_text().replace(" %", "%")
    return " ".join(doc.replace("`", "").split())


def test_thresholds_are_documented_in_the_dag():
    doc = _doc("taxi_web_to_postgres")
    assert f"at most {quality.MAX_UNKNOWN_VENDOR_SHARE:.0%}" in doc
    assert f"at most {quality.MAX_OUT_OF_MONTH_SHARE:.0%}" in doc
    assert f"at least {quality.MIN_CLEAN_SHARE:.0%}" in doc
    assert quality.VENDOR_CODES in doc


def test_plausibility_thresholds_are_documented_in_the_dag():
    doc = _doc("taxi_web_to_postgres")
    for _, what, share in quality.PLAUSIBILITY:
        words = what.removeprefix("a ").replace("pu_location_id or do_location_id", "location id")
        assert f"{words}: at most {share:.1%}" in doc if share else words in doc.split("none allowed:")[1], what
