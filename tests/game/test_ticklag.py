"""The tick-lag histogram: buckets, differences between readings, percentiles."""

from lobby.ticklag import TickLag, since, summary


def test_it_buckets_by_millisecond_and_summarises_a_window_between_two_readings():
    lag = TickLag()
    for s in (0.0004, 0.0011, 0.0012, -0.001):  # a clock step can make one negative: 0 ms
        lag.add(s)
    first = lag.as_json()
    assert first == {"0": 2, "1": 2}
    for _ in range(296):
        lag.add(0.002)
    for _ in range(3):
        lag.add(0.0305)
    lag.add(0.0451)
    window = since(lag.as_json(), first)
    assert window == {2: 296, 30: 3, 45: 1}
    # nearest rank: the 150th and the 297th of 300, as the bucket's upper edge
    assert summary(window) == {"p50_ms": 3, "p99_ms": 31, "max_ms": 46, "ticks": 300}
    assert summary({}) is None
