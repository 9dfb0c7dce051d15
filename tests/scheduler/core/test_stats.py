import math

import numpy as np
import pytest

from scheduler.core.stats import Z_975, mean_ci, t_975

# Two-sided 95 % Student's t quantiles as printed in the usual tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2)
TEXTBOOK = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 9: 2.262, 10: 2.228, 19: 2.093, 20: 2.086, 29: 2.045, 30: 2.042}


@pytest.mark.parametrize(("df", "t"), TEXTBOOK.items())
def test_t_quantiles_match_the_tables(df: int, t: float) -> None:
    assert t_975(df) == pytest.approx(t, abs=5e-4)


def test_beyond_thirty_degrees_of_freedom_the_normal_quantile() -> None:
    assert t_975(31) == t_975(1000) == Z_975 == pytest.approx(1.95996, abs=1e-5)
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_975(0)


def test_mean_ci_by_hand() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])  # s = sqrt(2.5), n = 5, t(4) = 2.776445
    assert mean == 3.0 and half == pytest.approx(2.776445 * math.sqrt(2.5) / math.sqrt(5), rel=1e-9)
    mean, half = mean_ci(np.arange(40.0))  # 39 df: the normal's 1.959964
    assert mean == 19.5 and half == pytest.approx(1.959964 * np.std(np.arange(40.0), ddof=1) / math.sqrt(40), rel=1e-9)
    assert mean_ci([7.0, 7.0]) == (7.0, 0.0)


def test_one_value_has_no_interval_unless_the_caller_names_one() -> None:
    mean, half = mean_ci([2.5])
    assert mean == 2.5 and math.isnan(half)
    assert mean_ci([2.5], single=0.0) == (2.5, 0.0)
    with pytest.raises(ValueError, match="no values"):
        mean_ci([])
