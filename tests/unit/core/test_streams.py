import threading

import pytest

from taxi_flows.core.streams import prefetch


def test_items_arrive_in_order():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_a_producer_error_is_raised_in_the_consumer():
    def items():
        yield 1
        raise EOFError("cut short")

    it = prefetch(items())
    assert next(it) == 1
    with pytest.raises(EOFError, match="cut short"):
        next(it)


def test_a_consumer_that_stops_stops_the_producer():
    produced = []
    closed = threading.Event()

    def items():
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    it = prefetch(items(), depth=2)
    assert next(it) == 0
    it.close()
    assert closed.is_set()
    assert len(produced) < 10
