"""The trigger form's month labels name, for every month, the source choose() reads each type from."""

from __future__ import annotations

import datetime as dt

from taxi_flows.core import source
from taxi_flows.core.layouts import MIRROR
from taxi_flows.core.schema import COLORS


def test_every_month_s_label_names_the_source_choose_picks_for_each_type():
    months = source.months_newest_first()
    labels = source.month_labels(months)
    for month in months:
        first = dt.date.fromisoformat(f"{month}-01")
        expected: dict[str, list[str]] = {}
        for color in COLORS:
            try:
                expected.setdefault(source.choose(color, first), []).append(color)
            except ValueError:
                continue
        where = [f"{', '.join(c)} ({'the mirror' if n == MIRROR else 'the TLC'})" for n, c in expected.items()]
        assert labels[month] == f"{month}: {'; '.join(where)}"
    assert labels["2019-01"] == "2019-01: yellow, green, fhv (the mirror)"
