"""Ceilings of single keys of a client file, below the schema's 1e12 for every amount.

Every amount is at most MAX_AMOUNT (1e12), but the model multiplies some of them, and refuses a
figure past MAX_FIGURE (1e15, engine/model/guards.py). A key whose line is a product gets its
own ceiling, the most its unit can mean (hours in a week) or a generous but finite bound, so a
key set to its ceiling is costed; the products they close, every factor at its ceiling:
  engineering, weeks × hours a week × rate: 500,000 × 168 × 1e7 = 8.4e14 < 1e15
  labour alternative, staff × hours a month × share saved × rate: 100,000 × 744 × 1 × 1e7 = 7.44e14 < 1e15
  base-model migrations a quarter, migrations a year / 4 × cost: 365 / 4 × 1e12 = 9.1e13 < 1e15
Amounts are in the plan's currency: an hourly rate of 1e7 is USD 10 million, and IDR 1e7 (the
price book's currency with the smallest unit) about USD 612 (1e7 × 1.0705 ÷ 17487.21, the
ECB reference rates of 2024-06-28 in params/pricebook.yaml), above any loaded labour rate.
Where another factor is a volume with no ceiling of its own (pairs, tokens, GPU-hours, the first
compute bill), the product is not closed by these: the model refuses the figure in one line
naming the file and the section, and ``validate`` with it (it costs the plan's base case, its
corners and each scenario's base case: ftcost_helpers/cli/plans.py, ``costable``).
"""

from __future__ import annotations

MAX_HOURS_PER_WEEK = 168.0
"""Hours in a week (7 × 24): ``engineering.hours_per_week`` cannot exceed it."""

MAX_HOURS_PER_MONTH = 744.0
"""Hours in the longest month (31 × 24): ``alternative.labour.hours_per_staff_per_month``."""

MAX_HOURLY_RATE = 1e7
"""An hourly labour rate (engineering, annotation, the labour alternative), per hour in the
plan's currency: ten million (USD 10 million an hour; IDR 1e7 ≈ USD 612)."""

MAX_ENGINEER_WEEKS = 500_000.0
"""Engineer-weeks of one programme (10,000 engineers for 50 weeks): 500,000 × 168 h × 1e7 an
hour = 8.4e14, below the model's 1e15."""

MAX_STAFF = 100_000.0
"""Staff whose time the fine-tune saves: 100,000 × 744 h × 1e7 an hour = 7.44e14 a month."""

MAX_MINUTES_PER_PAIR = 1_440.0
"""Minutes of labelling a pair (a whole day, 24 × 60)."""

MAX_RETRAINS_PER_QUARTER = 92.0
"""Re-trainings a quarter: one a day (92 days in the longest quarter)."""

MAX_RETRAIN_FRACTION = 10.0
"""One re-training's compute against the first (the source puts it at 0.5–1.0; up to ten
times, a re-training on a much larger set)."""

MAX_MIGRATIONS_PER_YEAR = 365.0
"""Base-model migrations a year: one a day (365 / 4 × 1e12 a migration = 9.1e13 a quarter)."""

MAX_PRICE_PER_1M_TOKENS = 1e6
"""A price per million tokens: one a token (in USD, a million dollars per million tokens)."""

MAX_KWH_PRICE = 1e5
"""Electricity per kWh in the plan's currency (USD 100,000; IDR 1e5 ≈ USD 6.12)."""

MAX_GENERATION_TOKENS = 1e9
"""A mean completion, in tokens: the ceiling of ``max_generation_tokens`` (a whole count,
``quantities.MAX_COUNT``), which it may not exceed."""

MAX_HOURS_PER_MILLION_TOKENS = 1e6
"""Hours a run takes per million training tokens, from a pilot: a million (114 years)."""

KEY_MAXIMA: dict[str, float] = {
    "engineering.hours_per_week": MAX_HOURS_PER_WEEK,
    "engineering.engineer_weeks": MAX_ENGINEER_WEEKS,
    "engineering.rate_usd_per_hour": MAX_HOURLY_RATE,
    "dataset.annotation_rate_usd_per_hour": MAX_HOURLY_RATE,
    "dataset.annotation_minutes_per_pair": MAX_MINUTES_PER_PAIR,
    "alternative.labour.staff": MAX_STAFF,
    "alternative.labour.hours_per_staff_per_month": MAX_HOURS_PER_MONTH,
    "alternative.labour.loaded_rate_usd_per_hour": MAX_HOURLY_RATE,
    "maintenance.retrains_per_quarter": MAX_RETRAINS_PER_QUARTER,
    "maintenance.retrain_fraction_of_first_compute": MAX_RETRAIN_FRACTION,
    "maintenance.migrations_per_year": MAX_MIGRATIONS_PER_YEAR,
    "training.managed.price_usd_per_1m_tokens": MAX_PRICE_PER_1M_TOKENS,
    "training.ownership.kwh_price_usd": MAX_KWH_PRICE,
    "training.rl.generation_tokens": MAX_GENERATION_TOKENS,
    "calibration.hours_per_million_tokens": MAX_HOURS_PER_MILLION_TOKENS,
}
"""Each key with a ceiling of its own (below :data:`~ftcost_helpers.engine.quantities.MAX_AMOUNT`),
documented with its bound in params/README.md."""
