"""Programme spend by month (model/roi.py): areas given as one number and as draws, side by side."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.model.roi import programme_spend_by_month


def test_a_fixed_area_and_a_drawn_area_add_month_by_month():
    # compute: USD 100 (one number), half in month 0 and half in month 1;
    # data: two draws of USD 10 and 20, all in month 0; horizon 2 months (months 0, 1, 2).
    # month 0: 100 × 0.5 + (10, 20) × 1 = (60, 70); month 1: 100 × 0.5 = 50 in both draws;
    # month 2: nothing.
    spend = programme_spend_by_month(
        {"compute": 100.0, "data": np.array([10.0, 20.0])},
        {"compute": np.array([0.5, 0.5]), "data": np.array([1.0])},
        2,
    )
    assert spend.tolist() == [[60.0, 50.0, 0.0], [70.0, 50.0, 0.0]]


def test_only_fixed_areas_give_one_row_of_months():
    # 30 in month 0 and 30 in month 1 (an even split of 60), plus 5 in month 0: (35, 30, 0)
    spend = programme_spend_by_month(
        {"compute": 60.0, "eval": 5.0}, {"compute": np.array([0.5, 0.5]), "eval": np.array([1.0])}, 2
    )
    assert spend.tolist() == [35.0, 30.0, 0.0]


def test_no_areas_spend_nothing():
    assert programme_spend_by_month({}, {}, 3).tolist() == [0.0, 0.0, 0.0, 0.0]


def test_a_figure_that_is_not_a_number_stays_so_in_every_month():
    # IEEE 754: NaN × 0 = NaN, so an area the model could not cost marks every month, not only
    # its build months (a guard then names it); a finite area's months after the build are 0.
    spend = programme_spend_by_month({"compute": np.array([np.nan, 7.0])}, {"compute": np.array([1.0])}, 2)
    assert np.isnan(spend[0]).all()
    assert spend[1].tolist() == [7.0, 0.0, 0.0]
