"""The client document's glossary: the words a decision-maker may not know, each in a
sentence or two."""

from __future__ import annotations

from ftcost_helpers.report.document_markup import escaped as _h
from ftcost_helpers.report.document_markup import keep_hyphenated

GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "P10, P50, P90",
        "The estimate is run thousands of times with every uncertain input drawn from its range (a Monte Carlo "
        "simulation). The P50 is the middle outcome: half the runs cost less, half more. One run in ten costs "
        "less than the P10, and one in ten more than the P90.",
    ),
    (
        "Base case",
        "The estimate with every input at its most likely value (or the middle of its range). Because costs "
        "can overrun further than they can undershoot, the base case often sits below the P50.",
    ),
    (
        "Programme cost",
        "The one-time cost of building the fine-tuned model: data, training, evaluation, engineering "
        "and compliance, before it goes into service.",
    ),
    (
        "Running cost",
        "What the model costs each month once it is in service: serving it, checking its quality, and "
        "keeping it current (maintenance).",
    ),
    (
        "Alternative",
        "What the business would pay each month without the fine-tuned model: an API bill, a "
        "retrieval (RAG) set-up, or staff time.",
    ),
    ("Net saving", "The alternative's monthly cost minus the running cost: what the model saves each month."),
    ("Break-even", "The month in which the savings to date first cover everything spent to date."),
    ("Cost of ownership (TCO)", "The programme cost plus every running cost up to the end of the horizon."),
    ("Horizon", "The number of months the estimate looks ahead, counted from the programme's start."),
    ("GPU", "The graphics processor a model is trained and served on; it is rented by the hour."),
    (
        "GPU-hour",
        "One GPU used for one hour: the unit in which GPU time is priced. Eight GPUs for six hours are 48 GPU-hours.",
    ),
    (
        "Utilisation",
        "The share of a GPU's top speed a job actually uses. Even the best-run training uses under half "
        "(38–46% in the published reports of large models); a plan that books far more (or far less) GPU time "
        "than the work needs shows up as a utilisation out of that range.",
    ),
    (
        "FLOPs",
        "Floating-point operations: the arithmetic a training run has to do. The total follows from the "
        "model's size and the amount of training text, and sets the GPU time needed.",
    ),
    ("BF16", "A compact 16-bit number format that modern GPUs compute in fastest; GPU speeds are quoted in it."),
    (
        "Token",
        "A word or part of a word: the unit in which models read and write text, and in which API use is billed.",
    ),
    (
        "Full fine-tune",
        "Training that adjusts every weight of the base model: the most flexible and the most "
        "expensive way to adapt it.",
    ),
    (
        "LoRA",
        "Low-rank adaptation: training small add-on weights while the base model stays frozen. It needs a "
        "fraction of the computing power of a full fine-tune and often matches it.",
    ),
    ("QLoRA", "LoRA on a base model stored in compressed 4-bit form, so that it fits on smaller, cheaper GPUs."),
    ("Hyperscaler", "A large general-purpose cloud provider (Amazon Web Services, Google Cloud, Microsoft Azure)."),
    ("Neocloud", "A specialist GPU cloud provider; usually cheaper per GPU-hour than a hyperscaler."),
    (
        "On-demand, spot",
        "On-demand GPUs are yours until you release them; spot GPUs are cheaper spare capacity "
        "that the provider may take back at short notice.",
    ),
    (
        "Price book",
        "The firm's dated list of market prices and rules of thumb, compiled from the sources named under Sources.",
    ),
    (
        "Severity",
        "How much a warning matters: critical where the plan cannot run as written or its figures are "
        "wrong; otherwise by the dollars at stake against the cost of ownership (high from 10%, medium from 2%, "
        "low below), or by the kind of risk where no dollar figure can be put on it.",
    ),
)
"""The words of the client document a decision-maker may not know, each in a sentence or two."""


def glossary_section() -> str:
    """A one-page glossary of the document's terms (:data:`GLOSSARY`), in plain words."""
    terms = "".join(f"<dt>{_h(term)}</dt><dd>{keep_hyphenated(_h(meaning))}</dd>" for term, meaning in GLOSSARY)
    return f'<dl class="glossary">{terms}</dl>'
