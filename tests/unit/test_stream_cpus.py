"""Which CPUs the stream job keeps to (`POS_STREAM_CPUS`)."""

from __future__ import annotations

import pytest

from stream_jobs.sales_stream import stream_cpu_set


def test_auto_leaves_the_first_cpu_to_the_counter() -> None:
    assert stream_cpu_set("auto", {0, 1}) == {1}
    assert stream_cpu_set("auto", {2, 3, 5}) == {3, 5}


def test_auto_on_one_cpu_keeps_it() -> None:
    assert stream_cpu_set("auto", {0}) == {0}


def test_all_and_lists() -> None:
    assert stream_cpu_set("all", {0, 1}) == {0, 1}
    assert stream_cpu_set("1-3,5", set(range(8))) == {1, 2, 3, 5}
    assert stream_cpu_set(" 0 ", {0, 1}) == {0}


def test_only_available_cpus_are_chosen() -> None:
    assert stream_cpu_set("1-7", {0, 1, 2}) == {1, 2}


@pytest.mark.parametrize("spec", ["first", "1-x", "-1", ""])
def test_a_bad_list_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="stream_cpus"):
        stream_cpu_set(spec, {0, 1})


def test_a_list_of_absent_cpus_is_refused() -> None:
    with pytest.raises(ValueError, match="none of"):
        stream_cpu_set("4-5", {0, 1})
