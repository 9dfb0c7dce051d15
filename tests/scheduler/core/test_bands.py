"""Carbon band scales as text: ordinals that read right ("33rd", not "33th")."""

import pytest

from scheduler.core.bands import BandPolicy, ordinal


@pytest.mark.parametrize(
    "x, text",
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (33, "33rd"),
        (67, "67th"),
        (100, "100th"),
        (101, "101st"),
        (111, "111th"),
        (0, "0th"),
        (62.5, "62.5th"),
        (33.0, "33rd"),
    ],
    ids=lambda v: str(v),
)
def test_ordinals(x, text):
    assert ordinal(x) == text


def test_the_percentile_scale_says_33rd_and_67th():
    assert BandPolicy.parse("p33,p67").describe() == "low below the 33rd and high from the 67th percentile of the last 168 h"
