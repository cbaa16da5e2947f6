import pytest

from taxi_flows.core import quality
from taxi_flows.core.transform import TripStats


def stats(**counts) -> TripStats:
    base = {"rows_read": 1000, "rows_kept": 900}
    return TripStats(color="yellow", month="2021-01", **{**base, **counts})


def test_a_real_looking_month_passes():
    assert quality.problems(stats(unknown_vendor=5, out_of_month_pickups=2), rows_written=900) == []


def test_a_real_months_odd_rows_pass_the_plausibility_checks():
    # Meters left running and clocks set wrong: a real month has a few of these (TLC 2019-2021).
    odd = {"times_at_midnight": 1, "dropoff_before_pickup": 2, "longer_than_a_day": 9}
    assert quality.problems(stats(**odd), rows_written=900) == []


@pytest.mark.parametrize(
    ("counts", "written", "not_positive", "expected"),
    [
        ({"unknown_vendor": 100}, 900, 0, "vendor_id other than 1 or 2"),
        ({"out_of_month_pickups": 50}, 900, 0, "pickup outside 2021-01"),
        ({"rows_kept": 100}, 100, 0, "only 100 of 1,000 rows"),
        ({"rows_kept": 0}, 0, 0, "none of the 1,000 rows"),
        ({"rows_read": 0, "rows_kept": 0}, 0, 0, "header and no rows"),
        ({}, 899, 0, "899 rows were written but 900 were kept"),
        ({}, 900, 3, "3 written rows have passenger_count or trip_distance not > 0"),
        ({"times_at_midnight": 10}, 900, 0, r"both at exactly 00:00:00 in 10 of 900 rows kept \(1.11%; maximum 1.0%\)"),
        ({"dropoff_before_pickup": 10}, 900, 0, "a dropoff before the pickup in 10 of 900"),
        ({"longer_than_a_day": 19}, 900, 0, "more than 24 hours after the pickup in 19 of 900"),
        (
            {"too_many_passengers": 1},
            900,
            0,
            r"passenger_count above 9 in 1 of 900 rows kept \(0.11%; a real month has none\)",
        ),
        ({"too_long_distance": 1}, 900, 0, "trip_distance above 1,000 miles in 1 of 900"),
        ({"unknown_zones": 1}, 900, 0, "not in the zone lookup in 1 of 900"),
        ({"unknown_store_and_fwd_flag": 1}, 900, 0, "store_and_fwd_flag other than Y or N in 1 of 900"),
    ],
)
def test_checks_fail_with_a_sentence(counts, written, not_positive, expected):
    with pytest.raises(quality.DataQualityError, match=expected):
        quality.check(stats(**counts), written, not_positive)


def test_thresholds_are_documented_in_the_dag():
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "dags" / "taxi_web_to_postgres.py").read_text()
    assert f"at most {quality.MAX_UNKNOWN_VENDOR_SHARE:.0%}" in doc.replace(" %", "%")
    assert f"at most {quality.MAX_OUT_OF_MONTH_SHARE:.0%}" in doc.replace(" %", "%")
    assert f"at least {quality.MIN_KEPT_SHARE:.0%}" in doc.replace(" %", "%")


def test_plausibility_thresholds_are_documented_in_the_dag():
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "dags" / "taxi_web_to_postgres.py").read_text().replace(" %", "%")
    doc = " ".join(doc.replace("`", "").split())
    for _, what, share in quality.PLAUSIBILITY:
        words = what.removeprefix("a ").replace("pu_location_id or do_location_id", "location id")
        assert f"{words}: at most {share:.1%}" in doc if share else words in doc.split("none allowed:")[1], what
