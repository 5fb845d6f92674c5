"""The space helpers every algorithm shares: distributions, step lattices, reading values back, optuna mapping."""

from __future__ import annotations

import math
import statistics
import typing

import katib_flows_suggestion as sg
import pytest
from katib_flows_suggestion._optuna import distribution
from katib_flows_suggestion._space import canonical, from_unit, snap
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

P = sg.Parameter
UNITS = [(i + 0.5) / 4000 for i in range(4000)]  # an even spread over [0, 1): the inverse CDF's shape, noise-free


def _draws(p: sg.Parameter) -> list[float]:
    return [float(from_unit(p, u)) for u in UNITS]


def test_uniform_int_weighs_every_lattice_point_equally() -> None:
    counts = statistics.multimode(_draws(P("n", "int", 1, 4)))
    assert counts == [1.0, 2.0, 3.0, 4.0]


def test_log_uniform_is_uniform_in_log_space() -> None:
    draws = _draws(P("lr", "double", 1e-4, 1.0, distribution="logUniform"))
    assert min(draws) >= 1e-4 and max(draws) <= 1.0
    assert statistics.median(draws) == pytest.approx(1e-2, rel=0.01)


def test_normal_is_centred_with_a_sixth_of_the_range_as_sd_and_clipped() -> None:
    draws = _draws(P("x", "double", 0.0, 6.0, distribution="normal"))
    assert statistics.mean(draws) == pytest.approx(3.0, abs=1e-6)
    assert statistics.pstdev(draws) == pytest.approx(1.0, rel=0.02)
    assert min(draws) >= 0.0 and max(draws) <= 6.0


def test_log_normal_is_normal_in_log_space() -> None:
    draws = _draws(P("x", "double", 1.0, math.e**6, distribution="logNormal"))
    logs = [math.log(x) for x in draws]
    assert statistics.mean(logs) == pytest.approx(3.0, abs=1e-6)
    assert statistics.pstdev(logs) == pytest.approx(1.0, rel=0.02)


def test_steps_are_exact_decimals() -> None:
    p = P("x", "double", 0.1, 1.0, 0.1)
    assert sorted(set(_draws(p))) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert snap(p, 0.30000000000000004) == 0.3
    assert snap(p, 7.0) == 1.0
    assert snap(P("n", "int", 2, 11, 3), 100.0) == 11


def test_a_log_parameter_with_a_step_stays_on_the_step() -> None:
    p = P("lr", "double", 0.001, 0.1, 0.001, distribution="logUniform")
    assert all(round(x * 1000, 9).is_integer() for x in _draws(p))


def test_min_equal_max_gives_that_value() -> None:
    for distribution_name in typing.get_args(sg.Distribution):
        p = P("x", "double", 2.5, 2.5, distribution=distribution_name)
        assert from_unit(p, 0.7) == 2.5


@pytest.mark.parametrize(
    ("parameter", "raw", "expected"),
    [
        (P("n", "int", 1, 5), "3", 3),
        (P("n", "int", 1, 5), 3.0, 3),
        (P("n", "int", 1, 5), 3.5, None),
        (P("n", "int", 1, 5), 6, None),
        (P("n", "int", 1, 5), True, None),
        (P("x", "double", 0.0, 1.0, 0.1), 0.30000000000000004, 0.3),
        (P("x", "double", 0.0, 1.0, 0.1), "0.35", None),
        (P("x", "double", 0.0, 1.0), "0.35", 0.35),
        (P("x", "double", 0.0, 1.0), "nan", None),
        (P("c", "categorical", values=("a", "b")), "b", "b"),
        (P("c", "categorical", values=("a", "b")), "z", None),
        (P("d", "discrete", values=("1", "2.5")), 2.5, "2.5"),
        (P("d", "discrete", values=("1", "2.5")), "1.0", "1"),
    ],
)
def test_canonical_reads_stored_values_back(parameter: sg.Parameter, raw: object, expected: object) -> None:
    assert canonical(parameter, raw) == expected


def test_optuna_distributions_follow_katib() -> None:
    assert distribution(P("n", "int", 1, 10, 3)) == IntDistribution(1, 10, step=3)
    assert distribution(P("n", "int", 1, 11, 3)) == IntDistribution(1, 10, step=3)  # no "not divisible" warning
    assert distribution(P("n", "int", 0, 100, 5, distribution="logUniform")) == IntDistribution(1, 100, log=True)
    assert distribution(P("x", "double", 0.0, 1.0, 0.3)) == FloatDistribution(0.0, 0.9, step=0.3)
    assert distribution(P("x", "double", 0.0, 1.0, distribution="logUniform")) == FloatDistribution(
        1e-10, 1.0, log=True
    )
    assert distribution(P("x", "double", 1.0, 9.0, distribution="normal")) == FloatDistribution(1.0, 9.0)
    assert distribution(P("x", "double", 1.0, 9.0, distribution="logNormal")) == FloatDistribution(1.0, 9.0, log=True)
    assert distribution(P("c", "categorical", values=("a", "b", "a"))) == CategoricalDistribution(("a", "b"))
