"""Write the five notebooks in ``notebooks/`` from the cell sources below, execute them with
the outputs of example A, and store them clean (deterministic ids, no timings, no widget
state), so that ``pytest --nbval notebooks/`` compares stable outputs.

    .venv/bin/python tools/build_notebooks.py            # write and execute all five
    .venv/bin/python tools/build_notebooks.py 01_compute # only some
    .venv/bin/python tools/build_notebooks.py --check    # exit 1 if a stored notebook is stale

Edit a notebook here, not in JupyterLab: this file is its source of truth.
"""

# ruff: noqa: E501  (the cells' sources are linted and formatted as notebook cells)
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"
MAX_BYTES = 1_000_000
SEED_HIDDEN = "000_0a0c95ce173b866e.txt"
SEED_MARKET = "001_6c04196dc11ea2b6.txt"

sys.path.insert(0, str(ROOT))
from ftcost_helpers.schema import TOP_LEVEL_KEYS  # noqa: E402

SECTION_COMMENTS = {
    "client": ("str", "client name shown on the report"),
    "currency": ("str", "currency of every amount (USD)"),
    "start_date": ("str", "programme start, YYYY-MM-DD"),
    "horizon_months": ("int", "months of cash flow and total cost of ownership"),
    "base_model": ("dict", "the open-weights model: size, layers, end of life"),
    "training": ("dict", "method, GPU, tier, GPUs, hours, runs, rerun tax"),
    "dataset": ("dict", "pairs, sourcing, annotation hours and rate, synthetic data"),
    "evaluation": ("dict", "harness set-up, judged runs, continuous evaluation"),
    "maintenance": ("dict", "quarterly upkeep, re-training, base-model migrations"),
    "engineering": ("dict", "engineer weeks, hours per week, blended rate"),
    "compliance": ("dict", "GDPR, EU AI Act, SOC 2, HIPAA work"),
    "serving": ("dict", "self-hosted inference: GPUs, hours, rate, tokens/s"),
    "alternative": ("dict", "what the fine-tune replaces: API, labour, RAG or none"),
    "uncertainty": ("dict", "Monte Carlo draws and seed"),
    "scenarios": ("list", "alternative plans to compare side by side"),
}


def parameters_cell() -> str:
    """The papermill ``parameters`` cell: plain values, each with a type and a comment."""
    missing = set(TOP_LEVEL_KEYS) - set(SECTION_COMMENTS)
    if missing:
        raise SystemExit(f"build_notebooks: no comment for client keys {sorted(missing)}")
    lines = [
        'params_file: str = "params/clients/example_a.yaml"  # client file (relative to the project root)',
        "interactive: bool = True  # show the widget panel; the report runner sets False",
        "# The sections of a client file, injected by `papermill ... -f params/clients/<client>.yaml`.",
        "# Each is None unless injected; when any is set, they (over params/defaults.yaml) are the plan",
        "# and params_file is ignored.",
    ]
    for key in TOP_LEVEL_KEYS:
        annotation, comment = SECTION_COMMENTS[key]
        lines.append(f"{key}: {annotation} = None  # {comment}")
    return "\n".join(lines)


SETUP = """\
from ftcost_helpers import {modules}
from ftcost_helpers.notebook import markdown, provenance_markdown, setup_notebook, show, show_panel, warnings_markdown

ctx = setup_notebook(params_file, globals(), interactive)
plan = ctx.breakdown
markdown(
    f"**{ctx.params.client}** — programme total **{tables.usd(plan.programme_total)}** "
    f"(low–high {tables.usd(plan.programme_range[0])}–{tables.usd(plan.programme_range[1])}), "
    f"parameters from `{ctx.source}`."
)"""

FOOTER = "markdown(provenance_markdown(ctx))"


def md(text: str) -> tuple[str, str, list[str]]:
    return ("markdown", textwrap.dedent(text).strip(), [])


def code(text: str, *tags: str) -> tuple[str, str, list[str]]:
    return ("code", textwrap.dedent(text).strip(), list(tags))


HELPER_MODULES = ("charts", "readings", "tables", "widgets")
"""Package modules a notebook's set-up cell may import: only those its cells use."""


def setup_cell(body: list) -> str:
    """The set-up cell, importing the helper modules the notebook's own code uses."""
    used_code = " ".join(source for kind, source, _ in body if kind == "code")
    used = [name for name in HELPER_MODULES if name in {"tables", "widgets"} or f"{name}." in used_code]
    return SETUP.replace("{modules}", ", ".join(used))


def frame(
    title: str,
    question: str,
    after: str,
    body: list,
    audit_areas: str,
    panel: str,
    intro: str,
    scope: str = "this part of",
) -> list:
    """Title, parameters, set-up, the sections, the audit, the panel and the footer."""
    return [
        md(f"# {title}\n\n**The question.** {question}\n\n**Afterwards you can** {after}"),
        code(parameters_cell(), "parameters"),
        md(
            "Every figure below comes from one run of the cost model on this client's parameters, checked "
            "against the schema and the price book (in code: the estimate `plan`)."
        ),
        code(setup_cell(body)),
        *body,
        md(
            f"## What the audit says\n\nThe plan audit checks {scope} the plan against the cost mistakes the sources list."
        ),
        code(
            f"markdown(warnings_markdown(plan, {audit_areas}))"
            if audit_areas != "None"
            else "markdown(warnings_markdown(plan))"
        ),
        code(f'panel = show_panel(widgets.{panel}, ctx, "{intro}")', "nbval-ignore-output", "panel"),
        code(FOOTER),
    ]


# ---------------------------------------------------------------- 01 compute

COMPUTE = frame(
    "01 · Compute: what do the GPUs really cost?",
    "How many GPU-hours does this plan book, at what price, what would the physics of its FLOPs "
    "need, and does the model fit on the chosen GPUs?",
    "price a GPU quote by tier, check it against the FLOPs it has to do, see the rerun tax, "
    "and tell whether a method fits in memory.",
    [
        md(
            rf"""
            ## 1. The booked plan and the rerun tax

            Teams plan compute as GPUs × hours per run × runs × price. A plan that budgets one clean
            run is wrong: runs die part-way (in {SEED_HIDDEN} the first run fails at epoch 0.4), and a
            hyper-parameter sweep without early stopping costs 3–6× more ({SEED_MARKET}).

            $$C_\text{{runs}} = G \cdot h \cdot R \cdot r \qquad
            C_\text{{failed}} = G \cdot h \cdot R_\text{{failed}} \cdot f_\text{{done}} \cdot r \qquad
            C_\text{{sweep}} = G \cdot h \cdot T \cdot s \cdot r$$

            with $G$ GPUs per run, $h$ hours per run, $R$ runs, $r$ USD per GPU-hour, $f_\text{{done}}$ the
            share a failed run completed, $T$ sweep trials and $s$ the share of a trial that runs (1 without
            early stopping).
            """
        ),
        code("show(tables.compute_cost_table(plan))"),
        code(
            """
            facts = plan.base.compute
            markdown(
                f"**Reading the result.** The plan books {tables.number(facts.booked_gpu_hours)} GPU-hours of full runs "
                f"and {tables.number(facts.rerun_gpu_hours)} GPU-hours of rerun tax at "
                f"{tables.usd_cents(facts.rate_usd_per_gpu_hour)} per GPU-hour: compute costs "
                f"{tables.usd(plan.areas_usd['compute'])}, {tables.percent(plan.areas_usd['compute'] / plan.programme_total)} "
                f"of the programme's {tables.usd(plan.programme_total)}."
            )
            """
        ),
        md(
            f"""
            ## 2. The price of a GPU-hour depends on the tier

            The same H100 costs USD 2.80–4.20 an hour on a hyperscaler, 1.80–2.60 on a neocloud and
            1.20–1.80 on neocloud spot ({SEED_MARKET}). Running on-demand hyperscaler when spot or a
            neocloud would do costs 2–4× more; only HIPAA work, where the BAA chain must reach the GPU
            provider, forces the hyperscaler tier. B200 costs more per hour but delivers about 2–2.5×
            the throughput.
            """
        ),
        code("show(tables.gpu_rates_table(ctx.book))"),
        code(
            """
            t = ctx.params.training
            show(charts.gpu_rates_chart(ctx.book, (t.gpu, t.tier, float(facts.rate_usd_per_gpu_hour))))
            """
        ),
        code(
            """
            band = ctx.book.gpu_rate(t.gpu, t.tier)
            position = "inside" if band.low <= float(facts.rate_usd_per_gpu_hour) <= band.high else "outside"
            markdown(
                f"**Reading the result.** This plan rents {ctx.book.gpus[t.gpu].label} on "
                f"{tables.TIER_LABELS.get(t.tier, t.tier).lower()} at {tables.usd_cents(facts.rate_usd_per_gpu_hour)} "
                f"per GPU-hour, {position} the price book's {tables.usd_range(band.low, band.high)} for that GPU and tier."
            )
            """
        ),
        md(
            r"""
            ## 3. Booked against physics

            A training run has to do a known amount of arithmetic. For full training that is about six
            FLOPs per parameter per token (two forward, four backward: the "6ND" rule of EleutherAI's
            Transformer Math 101 and the Chinchilla and Kaplan papers). A frozen base with adapters
            (LoRA, QLoRA) skips the weight gradients of the base: about $4ND$ plus the adapters' own
            $2N_aD$. Recomputing activations (checkpointing) adds one forward pass, $2ND$; DPO and RL make
            extra passes (their algorithm multiplier).

            $$F = \bigl(k\,N + 2N_a + 2N\,[\text{checkpointing}]\bigr)\,D \cdot m
            \qquad D = \text{pairs} \times \text{tokens per pair} \times \text{epochs}$$

            with $k$ = 6 for full training and 4 for a frozen base, $N$ parameters, $N_a$ the adapters'
            trained parameters (none for full training) and $D$ training tokens per run.

            $$\text{GPU-hours}_\text{physics} = \frac{F}{P \cdot u \cdot 3600} \cdot \pi
            \qquad u_\text{implied} = \frac{F \cdot \pi}{P \cdot 3600 \cdot G \cdot h}$$

            with $P$ the GPU's dense BF16 peak in FLOP/s (price book, from vendor datasheets), $u$ the
            utilisation of that peak, $\pi$ a method's throughput penalty (QLoRA dequantises its 4-bit
            base) and $m$ the algorithm multiplier. Large pre-training runs reach 38–46% of peak; small
            fine-tuning jobs reach far less. The utilisation the booked hours imply tells whether the plan
            is padded or optimistic.
            """
        ),
        code("show(tables.compute_views_table(plan))"),
        code("show(charts.gpu_hours_chart(plan))"),
        code("markdown(readings.booked_against_physics(plan))"),
        md(
            r"""
            ## 4. Does it fit? VRAM per method

            Memory per parameter: mixed-precision AdamW keeps about 16 bytes for every *trained* parameter
            (2 bf16 weights, 4 fp32 master copy, 8 Adam moments, 2 gradients). LoRA keeps the frozen base at
            2 bytes per parameter and trains 0.1–3% of the parameters ({SEED_MARKET}); QLoRA stores the base
            in 4-bit NF4, about 0.516 bytes per parameter with its quantisation constants (QLoRA paper §3).
            Activations per layer follow Korthikanti et al. (2022): about $34\,s\,b\,h$ bytes with
            memory-efficient attention, $s\,b\,h\,(34 + 5\,n_\text{heads}\,s/h)$ without it (the attention
            scores are kept), $2\,s\,b\,h$ when checkpointed, plus fp32 logits $4\,b\,s\,V$.

            $$M_\text{per GPU} = \frac{b_\text{base} N + b_\text{train} N_\text{trained}}{G\ \text{(if sharded)}}
            + L \cdot s \cdot b \cdot h \cdot a + 4\,b\,s\,V$$

            with $b_\text{base}$ and $b_\text{train}$ the bytes per frozen and per trained parameter, $L$ layers,
            $s$ the sequence length, $b$ the micro-batch, $h$ the hidden size, $V$ the vocabulary and $a$ = 34
            bytes ($34 + 5\,n_\text{heads}\,s/h$ without memory-efficient attention, 2 when checkpointed). Sharding (FSDP/ZeRO-3) splits the weights and optimizer states over the
            run's $G$ GPUs; activations stay on each GPU.
            """.replace("{SEED_MARKET}", SEED_MARKET)
        ),
        code("show(tables.vram_table(ctx.params, ctx.book))"),
        code(
            """
            vram = tables.vram_by_method(ctx.params, ctx.book)
            gpu = ctx.book.gpus[t.gpu]
            show(charts.vram_chart(vram, gpu.label, gpu.memory_gb))
            """
        ),
        code(
            """
            needed = float(facts.fewest_gpus)
            fits = needed <= t.gpus_per_run
            markdown(
                f"**Reading the result.** With {ctx.book.methods[t.method].label}, each of the {t.gpus_per_run} GPUs holds "
                f"{tables.number(facts.memory_per_gpu_gb, 1)} GB of the {tables.number(facts.usable_gb_per_gpu, 1)} GB usable: "
                + (
                    f"the run fits, and would fit on as few as {tables.number(needed)} GPU(s)."
                    if fits
                    else f"the run does **not** fit; it needs at least {tables.gpu_count(needed)} GPUs."
                )
            )
            """
        ),
    ],
    '["compute"]',
    "compute_panel",
    "## Explore\\n\\nMove the training plan: the table, the chart and the totals follow.",
)

# ---------------------------------------------------------------- 02 dataset

DATASET = frame(
    "02 · Dataset: what does the training set cost?",
    "What does it cost to build the training set — sourcing, redaction, expert labelling, "
    "synthetic data and checks — and is the data budget in proportion to compute?",
    "cost a dataset from its drivers, compare it with a reference stack, and check the budget "
    "split the sources recommend.",
    [
        md(
            rf"""
            ## 1. The cost stack

            The dataset is the largest line nobody budgets: internal estimates are typically 5–10× too low
            ({SEED_MARKET}), and data preparation with human-in-the-loop labelling takes the largest part of
            early budgets, routinely over 60% ({SEED_HIDDEN}). The stack:

            $$C_\text{{dataset}} = C_\text{{sourcing}} + C_\text{{redaction}} + \underbrace{{H \cdot w}}_\text{{annotation}}
            + \underbrace{{\delta \cdot H \cdot w}}_\text{{double-labelling}} + C_\text{{adjudication}}
            + \underbrace{{T \cdot p + V}}_\text{{synthetic}} + C_\text{{decontamination}} + C_\text{{curation}}$$

            with $H$ annotation hours at $w$ USD per hour (USD 20–120 by domain; legal, medical and finance at
            the top), $\delta$ the share labelled twice (10–20%), $T$ millions of synthetic tokens at $p$ USD per
            1M tokens plus verification $V$. A curation amount stands for the whole stack when a client knows
            only the total.
            """
        ),
        code("show(tables.dataset_table(plan))"),
        code("show(tables.dataset_reference_table(ctx.book))"),
        code(
            """
            pairs = ctx.params.dataset.pairs
            reference = ctx.book.dataset_activities_usd
            low = sum(r.low for r in reference.values())
            high = sum(r.high for r in reference.values())
            markdown(
                f"**Reading the result.** This plan's dataset costs {tables.usd(plan.areas_usd['dataset'])} for "
                f"{tables.number(tables.base_value(pairs))} pairs. The source's reference stack for "
                f"{ctx.book.dataset_reference_pairs:,} regulated-domain pairs runs {tables.usd(low)}–{tables.usd(high)}."
            )
            """
        ),
        md(
            f"""
            ## 2. Data against compute

            Two rules of thumb from {SEED_MARKET}: the dataset budget should be 3–6× the compute budget, not
            the other way round; and 60–70% of programme dollars should go to dataset curation, evaluation and
            labelling, 5–15% to compute, the rest to MLOps.
            """
        ),
        code("show(charts.dataset_stack_chart(plan))"),
        code("show(tables.areas_table(plan))"),
        code(
            """
            areas = plan.areas_usd
            ratio = areas["dataset"] / areas["compute"] if areas["compute"] else float("inf")
            data_share = (areas["dataset"] + areas["eval"]) / plan.programme_total
            guide = ctx.book.budget_split_guidance["data_eval_labelling_share"]
            markdown(
                f"**Reading the result.** The dataset costs {ratio:,.1f}× the compute bill (guidance: "
                f"{ctx.book.dataset_to_compute_ratio.low:g}–{ctx.book.dataset_to_compute_ratio.high:g}×). Dataset and "
                f"evaluation take {tables.percent(data_share)} of the programme (guidance: "
                f"{tables.percent(guide.low)}–{tables.percent(guide.high)}); compute takes "
                f"{tables.percent(areas['compute'] / plan.programme_total)}."
            )
            """
        ),
    ],
    '["dataset"]',
    "dataset_panel",
    "## Explore\\n\\nMove the labelling plan: the dataset table, the stack and the totals follow.",
)

# ---------------------------------------------------------------- 03 eval

EVAL = frame(
    "03 · Evaluation: what does it cost to know the model is good?",
    "What does the evaluation harness cost once, what does it cost every month after launch, "
    "and when does the monthly cost overtake the set-up?",
    "cost an evaluation harness, its judged runs and continuous evaluation, and spot a plan that ships without one.",
    [
        md(
            rf"""
            ## 1. One-time and monthly

            A serious harness has a frozen test set (500–2,000 examples, versioned), a production replay set
            (1,000–5,000 prompts, refreshed monthly), bias slices, an LLM-as-judge harness and public
            benchmarks where they apply ({SEED_MARKET}). Set-up costs USD 3–15k; one evaluation run costs
            USD 200–1,000 in judge calls; continuous evaluation against production traffic USD 800–3,000 a
            month.

            $$C_\text{{one-time}} = S + n_\text{{runs}} \cdot (e \cdot J \cdot p_\text{{call}}) \qquad
            C_\text{{continuous}}(m) = c \cdot m \qquad
            m^\star = \left\lceil \frac{{C_\text{{one-time}}}}{{c}} \right\rceil$$

            with $S$ the set-up, $e$ examples per judged run, $J$ judges, $p_\text{{call}}$ the price of a judge
            call, $c$ the monthly continuous cost and $m^\star$ the month when continuous evaluation has cost
            more than the set-up.
            """
        ),
        code("show(tables.eval_table(plan))"),
        code("show(charts.eval_chart(plan))"),
        code("markdown(readings.one_time_against_monthly_eval(plan))"),
        md(
            f"""
            ## 2. What the plan has in place

            Three of the top ten cost mistakes in {SEED_MARKET} are about evaluation: no eval harness (ship and
            pray, then re-train from scratch), no frozen test set (scores drift as the test set drifts) and no
            contamination check against public benchmarks (inflated scores, real-world failure).
            """
        ),
        code(
            """
            e = ctx.params.evaluation
            checks = {"Eval harness": e.harness, "Frozen test set": e.frozen_test_set, "Contamination check": e.contamination_check}
            markdown("\\n".join(f"- {name}: {'**yes**' if present else '**missing**'}" for name, present in checks.items()))
            """
        ),
    ],
    '["eval"]',
    "eval_panel",
    "## Explore\\n\\nMove the evaluation plan: the table, the chart and the totals follow.",
)

# ---------------------------------------------------------------- 04 maintenance

MAINTENANCE = frame(
    "04 · Maintenance: what does keeping the model current cost?",
    "What does maintenance cost each quarter once the model is in production, and how much quality "
    "is lost when it is skipped?",
    "budget the upkeep of a fine-tuned model and argue for it with the quality it protects.",
    [
        md(
            rf"""
            ## 1. Cost per quarter

            A fine-tuned model behaves like a software dependency: when the base model is refreshed, the
            adapter needs a fresh training loop ({SEED_HIDDEN}). Plan USD 8–25k a quarter ({SEED_MARKET}):
            re-evaluation (USD 1–3k), drift monitoring (USD 1–3k), incremental data and re-labelling
            (USD 3–10k), one re-train (50–100% of the first compute bill, {SEED_HIDDEN}) and base-model
            migrations, 2–3 a year at USD 8–40k each.

            $$Q = E + M + D + n_\text{{retrain}} \cdot f \cdot C_\text{{compute}} + \frac{{k_\text{{year}}}}{{4}} \cdot C_\text{{migration}}
            \qquad \text{{per month}} = Q / 3$$

            with $E$, $M$ and $D$ the quarterly re-evaluation, drift monitoring and incremental data,
            $n_\text{{retrain}}$ re-trains a quarter each costing a share $f$ of the first compute bill
            $C_\text{{compute}}$, and $k_\text{{year}}$ base-model migrations a year at $C_\text{{migration}}$ each.
            """
        ),
        code("show(tables.maintenance_table(plan))"),
        code(
            """
            items = {name: float(value) for name, value in plan.base.maintenance_quarterly.items()}
            quarterly, migrations = sum(items.values()), items["Base-model migration"]
            guide = ctx.book.maintenance_usd_per_quarter
            markdown(
                f"**Reading the result.** Maintenance costs {tables.usd(quarterly)} a quarter "
                f"({tables.usd(quarterly / 3)} a month) from month {ctx.params.maintenance.start_month}. Without "
                f"base-model migrations, which the source's range leaves out, it is {tables.usd(quarterly - migrations)}, "
                f"against the source's {tables.usd(guide.low)}–{tables.usd(guide.high)}. "
                f"The largest item is {max(items, key=items.get).lower()}."
            )
            """
        ),
        md(
            rf"""
            ## 2. The cost of skipping it

            Teams that skip maintenance lose 4–9 percentage points of quality per quarter ({SEED_MARKET}). Taken
            as a steady loss, after $k$ quarters without maintenance:

            $$L_k = k \cdot \ell, \qquad \ell \in [4, 9]\ \text{{points per quarter}}$$
            """
        ),
        code("show(charts.maintenance_chart(plan))"),
        code("show(tables.quality_loss_table(ctx.params))"),
        code(
            """
            loss = tables.quality_loss(ctx.params)
            year = loss[loss["Quarter"] == min(4, len(loss))].iloc[0]
            markdown(
                f"**Reading the result.** Skipping maintenance for {int(year['Quarter'])} quarters would cost "
                f"{year['Low']:.0f}–{year['High']:.0f} points of quality; keeping it costs "
                f"{tables.usd(quarterly * year['Quarter'])} over the same time."
            )
            """
        ),
    ],
    '["maintenance"]',
    "maintenance_panel",
    "## Explore\\n\\nMove the upkeep plan: the table, the chart and the totals follow.",
)

# ---------------------------------------------------------------- 05 ROI

ROI = frame(
    "05 · Return on investment: when does the fine-tune pay back, and how sure are we?",
    "What does the fine-tune cost to own over the horizon, when does it pay back against what it "
    "replaces, and how wide is the range around those answers?",
    "read a cash-flow chart and a break-even month, apply the source's decision rule, and name the "
    "inputs that move the answer most.",
    [
        md(
            rf"""
            ## 1. Running costs against the alternative

            Over a model's life, serving dwarfs training ({SEED_MARKET}). Self-hosted serving costs GPUs × hours
            × rate a month; its cost per million tokens compares it with an API. The alternative is what the
            fine-tune replaces: a frontier API (tokens × price per **million** tokens), labour saved, or a RAG
            set-up.

            $$S = G_s \cdot h_s \cdot r_s \qquad
            \text{{USD per 1M tokens}} = \frac{{r_s \cdot G_s}}{{\text{{tokens/s}} \cdot 3600}} \cdot 10^6 \qquad
            A_\text{{API}} = T_\text{{in}} \cdot p_\text{{in}} + T_\text{{out}} \cdot p_\text{{out}}$$

            with $G_s$ serving GPUs running $h_s$ hours a month at $r_s$ USD per GPU-hour, and $T$ millions of
            input and output tokens a month at $p$ USD per million.
            """
        ),
        code("show(tables.monthly_costs_table(plan))"),
        code("show(charts.monthly_costs_chart(plan))"),
        md(
            rf"""
            ## 2. Cash flow, break-even and total cost of ownership

            The programme is spent in month 0; each month after, the fine-tune saves what the alternative
            would have cost less what it costs to run. The break-even month is the first whose cumulative cash
            flow is no longer negative. The total cost of ownership follows {SEED_HIDDEN}: upfront data and
            compute, re-training and production inference.

            $$CF_m = -P + \sum_{{k=1}}^{{m}} \bigl(A - R_k\bigr) \qquad
            m_\text{{break-even}} = \min\{{m : CF_m \ge 0\}} \qquad
            \text{{TCO}} = P + \sum_{{k=1}}^{{H}} R_k$$

            with $P$ the programme, $A$ the alternative's monthly cost, $R_k$ the running cost in month $k$
            (continuous evaluation, serving, and maintenance once it starts) and $H$ the horizon in months.

            The decision rule of {SEED_MARKET}: under USD 5k a month of frontier-API spend, prompting wins on
            TCO — do not fine-tune; USD 5–25k, fine-tune only for a narrow task; above USD 25k, fine-tuning
            almost always pays.
            """
        ),
        code("show(tables.roi_summary_table(plan))"),
        code("show(charts.cash_flow_chart(plan))"),
        code("show(tables.cash_flow_table(plan, every=3))"),
        code(
            """
            month = plan.break_even_month
            markdown(
                f"**Reading the result.** The programme's {tables.usd(plan.programme_total)} "
                + (
                    f"pays back in month {month}"
                    if month is not None
                    else "does not pay back within the horizon against this alternative"
                )
                + f"; after {ctx.params.horizon_months} months the cash position is {tables.usd(plan.cash_flow[-1])} and "
                f"the total cost of ownership {tables.usd(plan.tco)}. Decision rule: {tables.decision_rule_text(plan)}."
            )
            """
        ),
        md(
            r"""
            ## 3. How sure are we? P10–P90

            Every input given as a range is drawn at once, 10,000 times by default, with a fixed seed so the
            figures repeat exactly: triangular when the range has a most-likely value, uniform otherwise. P10
            is the figure 10% of the draws fall below, P90 the one 90% fall below.
            """
        ),
        code(
            """
            from ftcost_helpers.uncertainty import simulate

            sim = simulate(ctx.params, ctx.book)
            cash_band = sim.cash_flow_band()
            show(
                tables.percentiles_table(
                    {"Programme total": sim.percentiles(), "Total cost of ownership": sim.tco_percentiles()}
                    | {tables.AREA_LABELS[a]: v for a, v in sim.area_percentiles().items()},
                    f"P10, P50 and P90 over {sim.draws:,} draws (seed {sim.seed})",
                )
            )
            """
        ),
        code(
            """
            months = list(range(ctx.params.horizon_months + 1))
            show(charts.percentile_band_chart(months, cash_band["p10"], cash_band["p50"], cash_band["p90"], plan.cash_flow))
            """
        ),
        code("show(charts.break_even_probability_chart(sim.break_even_probability()))"),
        code(
            """
            total = sim.percentiles()
            chance = sim.break_even_probability()
            by_base = chance[month - 1] if month is not None else chance[-1]
            markdown(
                f"**Reading the result.** The programme total has a P10–P90 range of {tables.usd(total['p10'])}–"
                f"{tables.usd(total['p90'])} around a base case of {tables.usd(plan.programme_total)}. "
                + (
                    f"The chance of having broken even by month {month} is {tables.percent(by_base)}; "
                    if month is not None
                    else ""
                )
                + f"by month {ctx.params.horizon_months} it is {tables.percent(chance[-1])}."
            )
            """
        ),
        md(
            """
            ## 4. Which inputs matter? The tornado chart

            One input at a time goes to its low end and to its high end, every other input at its base case.
            The longer the bar, the more that input's uncertainty moves the programme total: these are the
            figures worth pinning down before signing.
            """
        ),
        code(
            """
            from ftcost_helpers.sensitivity import sensitivity

            swings = sensitivity(ctx.params, ctx.book)
            show(tables.sensitivity_table(swings))
            """
        ),
        code("show(charts.tornado_chart(swings, plan.programme_total))"),
        code(
            """
            moving = [s for s in swings if s.swing > 0]
            markdown(
                f"**Reading the result.** The input that moves the programme total most is *{moving[0].label}*: from its "
                f"low to its high end the total runs {tables.usd(moving[0].low_total)}–{tables.usd(moving[0].high_total)}, "
                f"a swing of {tables.usd(moving[0].swing)}."
                if moving
                else "**Reading the result.** No ranged input moves the programme total: every figure is given as one value."
            )
            """
        ),
        md(
            """
            ## 5. Scenarios side by side

            A client file may name alternative plans (another method, GPU or tier, a local card, a RAG set-up
            instead of the API). Each is the plan with its changes, priced by the same model.
            """
        ),
        code(
            """
            from ftcost_helpers.scenarios import compare_scenarios

            show(tables.scenarios_table(compare_scenarios(ctx.params, ctx.book), ctx.book))
            """
        ),
    ],
    "None",
    "roi_panel",
    "## Explore\\n\\nMove the business case: the table, the cash-flow chart and the totals follow.",
    "the whole of",
)

NOTEBOOK_CELLS = {
    "01_compute": COMPUTE,
    "02_dataset": DATASET,
    "03_eval": EVAL,
    "04_maintenance": MAINTENANCE,
    "05_roi": ROI,
}


def ruff_format(source: str) -> str:
    """A code cell's source as ``ruff format`` writes it (so ``ruff format --check .`` passes)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", "cell.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return result.stdout.rstrip("\n")


def build(name: str) -> nbformat.NotebookNode:
    """The unexecuted notebook: cells with stable ids and clean metadata."""
    nb = nbformat.v4.new_notebook()
    for index, (kind, source, tags) in enumerate(NOTEBOOK_CELLS[name]):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(ruff_format(source))
        cell.id = f"{name.replace('_', '-')}-{index:02d}"
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nb.metadata = {
        "kernelspec": {"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run top to bottom with the default parameters (example A) from a scratch directory,
    which also proves the notebook does not depend on the working directory."""
    with tempfile.TemporaryDirectory() as scratch:
        client = NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=300,
            resources={"metadata": {"path": scratch}},
            record_timing=False,
            store_widget_state=True,  # nbclient needs it for Output widgets; clean() drops it
        )
        client.execute()
    return nb


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what varies between runs: widget outputs and state, kernel versions, timings."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and "panel" in cell.metadata.get("tags", []):
            cell.outputs = []
    nb.metadata = {
        "kernelspec": nb.metadata["kernelspec"],
        "language_info": {"name": "python"},
    }
    return nb


def errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"cell {cell.id}: {output.get('ename')}: {output.get('evalue')}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]


def write(name: str) -> Path:
    """Build, execute, clean and store one notebook."""
    nb = clean(execute(build(name)))
    problems = errors(nb)
    if problems:
        raise SystemExit(f"{name}: " + "; ".join(problems))
    path = NOTEBOOKS / f"{name}.ipynb"
    nbformat.validate(nb)
    nbformat.write(nb, path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path}: {size:,} bytes, over the {MAX_BYTES:,} limit")
    print(f"{path.relative_to(ROOT)}: {size:,} bytes")
    return path


def stale(name: str) -> bool:
    """Whether the stored notebook's sources differ from this file's."""
    path = NOTEBOOKS / f"{name}.ipynb"
    if not path.exists():
        return True
    stored = nbformat.read(path, as_version=4)
    expected = build(name)
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in stored.cells] != [
        (c.cell_type, c.source, c.metadata.get("tags", [])) for c in expected.cells
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to build (default: all)")
    parser.add_argument("--check", action="store_true", help="only check that stored sources match")
    args = parser.parse_args(argv)
    names = args.names or list(NOTEBOOK_CELLS)
    if args.check:
        outdated = [name for name in names if stale(name)]
        for name in outdated:
            print(f"notebooks/{name}.ipynb is out of date: run tools/build_notebooks.py {name}")
        return 1 if outdated else 0
    NOTEBOOKS.mkdir(exist_ok=True)
    for name in names:
        write(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
