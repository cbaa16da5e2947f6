import threading

import pytest

from taxi_flows.core.streams import Background, prefetch


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


def test_a_background_consumer_takes_every_item_in_order():
    seen = []
    with Background(seen.append, depth=2) as worker:
        for i in range(500):
            worker.put(i)
    assert seen == list(range(500))


def test_a_background_consumer_s_error_is_raised_by_put_or_close_and_stops_it():
    seen = []

    def consume(item):
        if item == 3:
            raise ValueError("bad item")
        seen.append(item)

    worker = Background(consume, depth=1)

    def feed():
        for i in range(100):
            worker.put(i)
        worker.close()

    with pytest.raises(ValueError, match="bad item"):
        feed()
    assert seen == [0, 1, 2]
    with pytest.raises(ValueError, match="bad item"):
        worker.close()


def test_leaving_the_block_with_an_error_skips_the_rest():
    seen, released = [], threading.Event()

    def consume(item):
        released.wait(0.5)
        seen.append(item)

    def feed_then_fail():
        with Background(consume, depth=4) as worker:
            for i in range(4):
                worker.put(i)
            raise KeyError("the caller's own")

    with pytest.raises(KeyError):
        feed_then_fail()
    released.set()
    assert len(seen) <= 1  # at most the one it had begun
