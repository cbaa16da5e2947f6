import pytest

from taxi_flows.core import quality
from taxi_flows.core.transform import TripStats


def stats(**counts) -> TripStats:
    base = {"rows_read": 1000, "rows_kept": 900}
    return TripStats(color="yellow", month="2021-01", **{**base, **counts})


def test_a_real_looking_month_passes():
    assert quality.problems(stats(unknown_vendor=5, out_of_month_pickups=2), rows_written=900) == []


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
