"""The ground every chart stands on: sizes, colours, currency ticks, a figure without pyplot,
PNG bytes, and the layout switch a widget panel uses (:mod:`ftcost_helpers.views.charts`
re-exports all of it)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# On a fresh machine, a slow first import of matplotlib logs "building the font cache" to
# stderr; in a notebook that text would become an output that nbval then finds missing.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from ftcost_helpers.engine.money import code  # noqa: E402

WIDE = (9.0, 4.2)
SQUARE = (6.5, 4.2)
COLOURS = {
    "compute": "#4C72B0",
    "dataset": "#DD8452",
    "eval": "#55A868",
    "engineering": "#8172B3",
    "compliance": "#937860",
    "serving": "#64B5CD",
    "maintenance": "#C44E52",
    "alternative": "#222222",
    "band": "#4C72B0",
}
MEMORY_COLOURS = ["#4C72B0", "#8172B3", "#64B5CD", "#DD8452", "#C44E52", "#55A868", "#937860", "#8C8C8C"]
"""One colour per memory term, in ``MEMORY_LABELS`` order."""
BOOKED_COLOURS = {"Training runs": "#4C72B0", "Failed runs": "#8172B3", "Sweep": "#64B5CD"}
TIER_COLOURS = ["#C44E52", "#DD8452", "#55A868", "#8172B3"]
CORNER_LEGEND: dict[str, dict[str, Any]] = {
    "upper right": {"fontsize": 7, "loc": "upper right"},
    "upper left": {"fontsize": 8, "loc": "upper left"},
    "upper left small": {"fontsize": 7, "loc": "upper left"},
}
"""How the live charts place and size their legends (a panel rebuilds a legend the same way)."""


def plain(text: str) -> str:
    """Client text (a GPU's label) as Matplotlib shows it verbatim: each ``$`` escaped, so a
    pair of them never starts mathtext (which could fail to parse when the chart is drawn)."""
    return text.replace("$", r"\$")


def compact_usd(value: float, _position: Any = None) -> str:
    """A currency tick: ``USD 50k``, ``USD 1.2M``, ``−USD 80k``."""
    sign = "−" if value < 0 else ""
    size = abs(value)
    if size >= 1e6:
        body = f"{size / 1e6:.1f}M".replace(".0M", "M")
    elif size >= 1e3:
        body = f"{size / 1e3:.0f}k"
    else:
        body = f"{size:.0f}" if size >= 10 or size == 0 else f"{size:.2f}"
    return f"{sign}{code()} {body}"


def rate_usd(value: float, _position: Any = None) -> str:
    """A rate tick with cents: ``USD 1.50``."""
    return f"{code()} {value:,.2f}"


def currency_axis(ax: Axes, axis: str = "y", formatter: Any = compact_usd) -> None:
    """Currency ticks on one axis of ``ax``."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(formatter))


def png_bytes(figure: Figure, dpi: float = 96, compress_level: int = 6) -> bytes:
    """The figure as PNG bytes (one drawing pass, no tight bounding box). A lower
    ``compress_level`` (zlib's 0–9) encodes faster for a slightly larger file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": compress_level})
    return buffer.getvalue()


_LAYOUT: ContextVar[str | None] = ContextVar("ftcost_chart_layout", default="constrained")


@contextmanager
def fixed_layout() -> Iterator[None]:
    """Charts built inside skip the layout pass at drawing time: the caller places the axes
    (a widget panel reuses the positions of its first drawing, which saves about a third of
    each redraw)."""
    token = _LAYOUT.set(None)
    try:
        yield
    finally:
        _LAYOUT.reset(token)


def fits_inside(figure: Figure) -> bool:
    """Whether every axes with its labels and title lies inside the figure (after a drawing)."""
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    for ax in figure.axes:
        box = ax.get_tightbbox(renderer)
        if box is not None and (box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height):
            return False
    return True


def new_figure(size: tuple[float, float] = WIDE, columns: int = 1) -> tuple[Figure, Any]:
    """A figure with ``columns`` axes side by side, laid out to fit its labels."""
    fig = Figure(figsize=size, layout=_LAYOUT.get())
    FigureCanvasAgg(fig)  # a canvas of its own: drawable without pyplot
    axes = fig.subplots(1, columns)
    return fig, axes


def _label_bars(ax: Axes, bars: Any, formatter: Any) -> None:
    ax.bar_label(bars, labels=[formatter(b.get_height()) for b in bars], padding=2, fontsize=8)
