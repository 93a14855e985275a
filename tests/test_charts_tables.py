"""Tables formatted for reading and charts with titles, labelled axes and currency ticks,
checked against the engine's figures for the worked examples."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import load_params, load_price_book, project_root
from ftcost_helpers.engine.scenarios import compare_scenarios
from ftcost_helpers.engine.schema import Scenario
from ftcost_helpers.engine.sensitivity import sensitivity
from ftcost_helpers.engine.uncertainty import simulate
from ftcost_helpers.views import charts, tables


@pytest.fixture(scope="module")
def book():
    return load_price_book()


@pytest.fixture(scope="module")
def plans(book):
    """Breakdowns of the three worked examples by letter."""
    return {
        name: estimate(load_params(project_root() / "params" / "clients" / f"example_{name}.yaml", book), book)
        for name in "abc"
    }


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("value", "text"),
    [(88_550, "USD 88,550"), (-14_174.4, "−USD 14,174"), (0.4, "USD 0"), (None, "—"), (float("nan"), "—")],
)
def test_usd(value, text):
    assert tables.usd(value) == text


def test_other_formats():
    assert tables.usd_cents(1.71131) == "USD 1.71"
    assert tables.usd_range(1.2, 1.8) == "USD 1.20–1.80"
    assert tables.number(84_000_000) == "84,000,000"
    assert tables.percent(0.0225, 1) == "2.2%"
    assert tables.with_unit("GPU-hours")(2880) == "2,880 GPU-hours"


@pytest.mark.parametrize(
    ("value", "tick"), [(250_000, "USD 250k"), (1_250_000, "USD 1.2M"), (-80_000, "−USD 80k"), (0, "USD 0")]
)
def test_currency_ticks(value, tick):
    assert charts.compact_usd(value) == tick


# ---------------------------------------------------------------- tables


@pytest.mark.parametrize(("name", "total"), [("a", 88_550), ("b", 94_800), ("c", 304_500)])
def test_line_items_total_is_the_programme(plans, name, total):
    table = tables.line_items_table(plans[name])
    assert table.value("Total", "Base") == pytest.approx(total)
    assert f"USD {total:,}" in repr(table)
    assert (table.data["Low"] <= table.data["Base"]).all() and (table.data["Base"] <= table.data["High"]).all()


def test_table_html_is_deterministic_and_captioned(plans):
    first = tables.line_items_table(plans["a"])._repr_html_()
    second = tables.line_items_table(plans["a"])._repr_html_()
    assert first == second
    assert "<caption>" in first and "USD 88,550" in first
    assert "0x" not in repr(tables.line_items_table(plans["a"]))


def test_areas_table_shares(plans):
    table = tables.areas_table(plans["a"])
    assert table.value("Dataset", "USD") == 38_000
    assert table.data["Share"].iloc[:-1].sum() == pytest.approx(1.0)


def test_compute_tables_match_the_engine(plans):
    a = plans["a"]
    cost = tables.compute_cost_table(a)
    assert cost.value("Compute total", "USD") == pytest.approx(1_150, abs=0.01)
    assert cost.value("Compute total", "GPU-hours") == pytest.approx(672)
    views = tables.compute_views_table(a)
    assert views.value("GPU-hours per run", "Booked plan") == 48
    assert views.value("GPU-hours per run", "Physics") == pytest.approx(float(a.base.compute.physics_gpu_hours_per_run))
    frame = tables.gpu_hours_frame(a)
    physics = frame[frame["View"] == "Physics"].iloc[0]
    assert physics["Low"] <= physics["GPU-hours"] <= physics["High"]


def test_gpu_rates_table_reads_the_price_book(book):
    table = tables.gpu_rates_table(book)
    assert "USD 1.20–1.80" in table.formatted().set_index("GPU").loc["H100 SXM", "Neocloud spot"]
    assert table.formatted().set_index("GPU").loc["B200", "Neocloud spot"] == "—"


def test_vram_by_method_agrees_with_the_engine(plans, book):
    a = plans["a"]
    frame = tables.vram_by_method(a.params, book).set_index("method")
    assert frame.loc["lora", "Per GPU (GB)"] == pytest.approx(float(a.base.compute.memory_per_gpu_gb))
    assert frame.loc["qlora", "Weights and optimizer (GB)"] < frame.loc["lora", "Weights and optimizer (GB)"]
    assert frame.loc["full_sft", "Weights and optimizer (GB)"] > 5 * frame.loc["lora", "Weights and optimizer (GB)"]
    assert "Fits" in tables.vram_table(a.params, book).data


def test_maintenance_and_quality_tables(plans):
    a = plans["a"]
    table = tables.maintenance_table(a)
    quarterly = sum(float(v) for v in a.base.maintenance_quarterly.values())
    assert table.value("Total", "Per quarter") == pytest.approx(quarterly)
    assert table.value("Total", "Over the horizon") == pytest.approx(quarterly * 18 / 3)
    loss = tables.quality_loss(a.params)
    assert list(loss["Low"][:3]) == [4, 8, 12] and list(loss["High"][:3]) == [9, 18, 27]


def test_quality_loss_stops_at_all_of_the_quality(plans, book):
    """9 points a quarter over 40 quarters is 360 points: no model has more than 100 to lose,
    in the table or in the chart drawn from it."""
    params = plans["a"].params.model_copy(update={"horizon_months": 120})
    loss = tables.quality_loss(params)
    assert len(loss) == 40
    assert loss["High"].max() == 100 and loss["Low"].max() == 100
    assert list(loss["High"][:3]) == [9, 18, 27] and loss["High"].iloc[11] == 100
    ax = Figure().add_subplot()
    charts.draw_quality_loss(ax, params)
    assert max(max(line.get_ydata()) for line in ax.get_lines()) <= 100


def test_table_html_shows_names_and_notes_as_text(plans, book):
    """A scenario named with markup (a client file is free text) renders as text, in the cells,
    the caption, the column headers and the note."""
    attack = "<script>alert(1)</script>"
    table = tables.Table(
        tables.pd.DataFrame({f"Col {attack}": [attack], "USD": [1.0]}),
        {"USD": tables.usd},
        f"Title {attack}",
        f"Note {attack} & more",
        (f"Col {attack}",),
    )
    page = table._repr_html_()
    assert "<script>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4
    assert "Note &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    params = plans["a"].params.model_copy(
        update={"scenarios": [Scenario(name=attack, description=attack, overrides={"training": {"runs": 2}})]}
    )
    page = tables.scenarios_table(compare_scenarios(params, book), book)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_cash_flow_and_roi_tables(plans):
    a = plans["a"]
    flow = tables.cash_flow_table(a, every=3)
    assert 5 in set(flow.data["Month"])  # the break-even month is always listed
    assert flow.data["Cumulative cash flow"].iloc[0] == pytest.approx(-88_550, abs=0.01)
    summary = tables.roi_summary_table(a)
    assert summary.value("Break-even month", "Value") == "month 5"
    assert tables.roi_summary_table(plans["c"]).value("Break-even month", "Value") == "none within the horizon"


def test_decision_rule_only_for_an_api_alternative(plans):
    assert "fine-tune only if the task is narrow" in tables.decision_rule_text(plans["a"])
    assert "does not apply" in tables.decision_rule_text(plans["b"])
    assert "no alternative" in tables.decision_rule_text(plans["c"])


def test_uncertainty_tables(plans, book):
    a = plans["a"]
    sim = simulate(a.params, book, draws=500, seed=1)
    table = tables.percentiles_table({"Programme total": sim.percentiles()})
    assert table.value("Programme total", "P10") <= table.value("Programme total", "P90")
    swings = sensitivity(a.params, book, top=None)
    shown = tables.sensitivity_table(swings)
    assert len(shown.data) == min(10, swings.drivers_found)
    assert shown.data["Swing"].is_monotonic_decreasing
    assert "Net value over 24 months at low" in shown.data.columns
    scenario_table = tables.scenarios_table(compare_scenarios(a.params, book))
    assert scenario_table.value("Plan as filed", "Programme") == pytest.approx(88_550)


# ---------------------------------------------------------------- charts


def _png_bytes(figure: Figure) -> int:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.tell()


def _check_readable(figure: Figure) -> None:
    assert isinstance(figure, Figure)
    for ax in figure.axes:
        assert ax.get_title(), "every chart has a title"
        assert ax.get_ylabel() or ax.get_xlabel(), "every chart labels its axes"
    assert 5_000 < _png_bytes(figure) < 200_000


def all_charts(plan, book):
    t = plan.params.training
    gpu = book.gpus[t.gpu]
    sim = simulate(plan.params, book, draws=400, seed=3)
    band = sim.cash_flow_band()
    months = np.arange(plan.params.horizon_months + 1)
    return {
        "gpu_hours": charts.gpu_hours_chart(plan),
        "rates": charts.gpu_rates_chart(book, (t.gpu, t.tier, float(plan.base.compute.rate_usd_per_gpu_hour))),
        "vram": charts.vram_chart(tables.vram_by_method(plan.params, book), gpu.label, gpu.memory_gb),
        "dataset": charts.dataset_stack_chart(plan),
        "eval": charts.eval_chart(plan),
        "maintenance": charts.maintenance_chart(plan),
        "maintenance_cost": charts.maintenance_cost_chart(plan),
        "cash_flow": charts.cash_flow_chart(plan),
        "monthly": charts.monthly_costs_chart(plan),
        "band": charts.percentile_band_chart(months, band["p10"], band["p50"], band["p90"], plan.cash_flow),
        "break_even": charts.break_even_probability_chart(sim.break_even_probability()),
        "histogram": charts.total_band_chart(sim.programme_total, sim.percentiles(), plan.programme_total, "Total"),
        "tornado": charts.tornado_chart(sensitivity(plan.params, book)),
    }


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_every_chart_is_titled_labelled_and_renders(plans, book, name):
    for figure in all_charts(plans[name], book).values():
        _check_readable(figure)


def test_currency_axes_say_usd(plans):
    figure = charts.cash_flow_chart(plans["a"])
    ax = figure.axes[0]
    labels = [ax.yaxis.get_major_formatter()(tick, 0) for tick in ax.get_yticks()]
    assert all("USD" in label for label in labels)


def test_cash_flow_chart_marks_break_even(plans):
    ax = charts.cash_flow_chart(plans["a"]).axes[0]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "Break-even: month 5" in legend
    np.testing.assert_allclose(ax.lines[0].get_ydata(), plans["a"].cash_flow)
    c_legend = [t.get_text() for t in charts.cash_flow_chart(plans["c"]).axes[0].get_legend().get_texts()]
    assert not any(label.startswith("Break-even") for label in c_legend)


def test_gpu_hours_chart_bars_are_the_engine_figures(plans):
    b = plans["b"]
    heights = [p.get_height() for p in charts.gpu_hours_chart(b).axes[0].patches]
    assert heights[0] == pytest.approx(float(b.base.compute.booked_gpu_hours))
    assert heights[-1] == pytest.approx(float(b.base.compute.physics_gpu_hours_per_run) * 8)


def test_monthly_costs_chart_stacks_running_costs(plans):
    a = plans["a"]
    ax = charts.monthly_costs_chart(a).axes[0]
    month_24 = sum(p.get_height() for p in ax.patches if abs(p.get_x() + p.get_width() / 2 - 24) < 1e-9)
    assert month_24 == pytest.approx(sum(a.ongoing_monthly_usd.values()))


def test_tornado_shows_the_top_drivers_of_its_quantity_largest_on_top(plans, book):
    swings = sensitivity(plans["a"].params, book)
    ax = charts.tornado_chart(swings).axes[0]
    assert [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()][::-1] == [s.label for s in swings.rows]
    assert len(swings.rows) == 8 and ax.get_xlabel() == "Net value over 24 months, USD"
