"""Charts kept for a widget panel's session: drawn once, then updated in place, with the axes
re-fitted to all of the data they draw after every update, the plan as filed outlined under
the moved plan, and a legend that names both.

:class:`LiveChart` holds one chart (a :class:`~ftcost_helpers.views.charts.ChartKind`) on its
own figure; :func:`data_box` and :func:`take_in` keep every bar, line, band and labelled point
inside the axes; :func:`plan_outline` draws the plan's own shapes faintly (dashed) for the
panel to show once a control has moved.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import Collection, LineCollection, PatchCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Annotation

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.views.charts import CORNER_LEGEND, ChartKind, new_figure

REFERENCE_STYLE = {"facecolor": "none", "edgecolor": "#888888", "linestyle": "--", "linewidth": 1.0, "alpha": 0.6}
"""How a chart draws the plan as filed under the moved plan: faint dashed outlines."""
PLAN_AS_FILED = "Plan as filed (dashed)"
"""The legend's name for the outline of the plan as the client file gives it."""
YOUR_CHANGES = "Your changes"
"""The legend's name for the moved plan's own series where the static chart says "Base case"."""
MARGIN = 0.05
"""Share of the data's span added beyond data that lay outside the axes (matplotlib's own margin)."""

Box = tuple[float, float, float, float]
"""(x low, x high, y low, y high) in data coordinates."""


# ---------------------------------------------------------------- what the axes must take in


def _finite_points(x: Any, y: Any) -> np.ndarray:
    points = np.column_stack([np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()])
    return points[np.isfinite(points).all(axis=1)]


def artist_points(ax: Axes, artist: Any) -> np.ndarray:
    """The data-coordinate points an artist draws on ``ax`` (an (n, 2) array; empty for an
    artist placed in axes or figure coordinates, such as a span or a reference line)."""
    if isinstance(artist, Line2D):
        if artist.get_transform() is not ax.transData:
            return np.zeros((0, 2))
        return _finite_points(artist.get_xdata(), artist.get_ydata())
    if isinstance(artist, Patch):
        if artist.get_data_transform() is not ax.transData:
            return np.zeros((0, 2))
        if isinstance(artist, Rectangle) and not artist.get_height():
            return np.zeros((0, 2))  # an empty bar (a part of 0) draws nothing
        vertices = artist.get_patch_transform().transform(artist.get_path().vertices)
        return _finite_points(vertices[:, 0], vertices[:, 1])
    if isinstance(artist, Collection):
        if artist.get_transform() is not ax.transData or len(artist.get_offsets()) > 1:
            return np.zeros((0, 2))  # markers placed by offsets (a scatter): not shapes in data
        parts = [path.vertices for path in artist.get_paths() if len(path.vertices)]
        if not parts:
            return np.zeros((0, 2))
        vertices = np.concatenate(parts)
        return _finite_points(vertices[:, 0], vertices[:, 1])
    if isinstance(artist, Annotation) and artist.xycoords == "data":
        return _finite_points([artist.xy[0]], [artist.xy[1]])
    return np.zeros((0, 2))


def data_box(ax: Axes, artists: Iterable[Any]) -> Box | None:
    """The smallest box holding every visible artist's data points (None when none draws any)."""
    chunks = [artist_points(ax, a) for a in artists if a.get_visible()]
    points = np.concatenate([c for c in chunks if len(c)] or [np.zeros((0, 2))])
    if not len(points):
        return None
    return (
        float(points[:, 0].min()),
        float(points[:, 0].max()),
        float(points[:, 1].min()),
        float(points[:, 1].max()),
    )


def _widen(limits: tuple[float, float], low: float, high: float) -> tuple[float, float]:
    """``limits`` (in either order) widened to take in [low, high]: a side the data passes
    goes beyond it by :data:`MARGIN` of the span; a side that already holds it stays."""
    lo, hi = sorted(limits)
    if low >= lo and high <= hi:
        return lo, hi
    span = max(high, hi) - min(low, lo) or abs(high) or 1.0
    return (min(lo, low - MARGIN * span) if low < lo else lo), (max(hi, high + MARGIN * span) if high > hi else hi)


def take_in(ax: Axes, artists: Iterable[Any]) -> bool:
    """Widen ``ax``'s limits where a visible artist's data lies outside them; True when they
    widened (an axis keeps its direction)."""
    box = data_box(ax, artists)
    if box is None:
        return False
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    xlim, ylim = _widen((x0, x1), box[0], box[1]), _widen((y0, y1), box[2], box[3])
    changed = xlim != tuple(sorted((x0, x1))) or ylim != tuple(sorted((y0, y1)))
    if changed:
        ax.set_xlim(*(xlim[::-1] if ax.xaxis_inverted() else xlim))
        ax.set_ylim(*(ylim[::-1] if ax.yaxis_inverted() else ylim))
    return changed


# ---------------------------------------------------------------- the plan's outline


@dataclass(frozen=True)
class Outline:
    """One axes of the plan's own chart: its bars (x, y, width, height) and lines (x, y)."""

    bars: list[tuple[float, float, float, float]]
    lines: list[tuple[Any, Any]]


def chart_outline(figure: Figure) -> list[Outline]:
    """The shapes of the plan's own chart (bars with a height, lines in data coordinates), to
    draw faintly under every later drawing."""
    outlines = []
    for ax in figure.axes:
        bars = [
            (p.get_x(), p.get_y(), p.get_width(), p.get_height())
            for p in ax.patches
            if isinstance(p, Rectangle) and p.get_data_transform() is ax.transData and p.get_height()
        ]
        lines = [(line.get_xdata(), line.get_ydata()) for line in ax.lines if line.get_transform() is ax.transData]
        lines += [
            (path.vertices[:, 0], path.vertices[:, 1])
            for area in ax.collections
            if isinstance(area, PolyCollection) and area.get_transform() is ax.transData and _filled(area)
            for path in area.get_paths()
        ]
        outlines.append(Outline(bars, lines))
    return outlines


def _filled(area: PolyCollection) -> bool:
    """Whether a band is painted (a stacked area), not only hatched or edged (a guidance band)."""
    faces = area.get_facecolor()
    return bool(len(faces)) and bool(np.any(np.asarray(faces)[:, 3] > 0))


def draw_outline(ax: Axes, outline: Outline) -> list[Any]:
    """The plan as filed as dashed outlines (one collection of bars, one of lines), hidden
    until the plan moves; not added to ``ax.patches`` or ``ax.lines``, which stay the moved
    plan's own."""
    drawn: list[Any] = []
    if outline.bars:
        shapes = [Rectangle((x, y), width, height) for x, y, width, height in outline.bars]
        drawn.append(PatchCollection(shapes, match_original=False, zorder=5, **REFERENCE_STYLE))
    segments = [list(zip(x, y, strict=False)) for x, y in outline.lines if len(x) > 1]
    if segments:
        style = {"colors": REFERENCE_STYLE["edgecolor"], "linestyles": "--", "linewidths": 1.2, "alpha": 0.6}
        drawn.append(LineCollection(segments, zorder=1, **style))
    for collection in drawn:
        collection.set_visible(False)
        ax.add_collection(collection, autolim=False)
    return drawn


def outline_handle() -> Line2D:
    """The legend's sample of the outline: a dashed grey line."""
    return Line2D(
        [], [], color=REFERENCE_STYLE["edgecolor"], linestyle="--", linewidth=1.2, alpha=0.9, label=PLAN_AS_FILED
    )


# ---------------------------------------------------------------- the live chart


class LiveChart:
    """A chart kept for a session: drawn once, then its artists set to each new estimate's
    figures (bar heights, line data, texts) on the same figure and axes. Where the new figures
    need other artists (a cost line appears, the break-even mark goes), only the chart's own
    artists are drawn again, on the same axes, scaled again from scratch. After every update
    the axes take in all of the data drawn (:func:`take_in`)."""

    def __init__(self, kind: ChartKind, breakdown: Breakdown) -> None:
        self.kind = kind
        self.figure, self.ax = new_figure(kind.size)
        self.data = kind.data(breakdown)
        self._drawn, self._own = self._draw()
        self.extra: list[Any] = []
        """Artists a caller added that change between drawings (a panel's outline of the plan)."""
        self.moved = False
        """Whether the chart shows a moved plan (the legend then names it and the outline)."""
        self._background: tuple[Any, Any] | None = None

    @property
    def artists(self) -> list[Any]:
        """Everything the chart draws in data coordinates: its own artists and the caller's."""
        return [*self._own, *self.extra]

    def fit(self) -> bool:
        """Widen the axes to hold every visible artist's data; True when they widened."""
        return take_in(self.ax, self.artists)

    def relegend(self) -> None:
        """The legend again, naming the series: the moved plan's own line "Your changes" (the
        plan's "Plan as filed (dashed)" while nothing moved), and the outline of the plan as
        filed once the plan has moved."""
        handles, labels = self.ax.get_legend_handles_labels()
        renamed = {"Base case": YOUR_CHANGES if self.moved else PLAN_AS_FILED.removesuffix(" (dashed)")}
        labels = [renamed.get(label, label) for label in labels]
        if self.moved and any(a.get_visible() for a in self.extra):
            handles, labels = [*handles, outline_handle()], [*labels, PLAN_AS_FILED]
        if not handles:
            return
        shown = self.ax.get_legend()
        if shown is not None and [text.get_text() for text in shown.get_texts()] == labels:
            return  # the same entries: the legend stays (building one costs a few ms a move)
        self.ax.legend(handles, labels, **CORNER_LEGEND[self.kind.legend])

    def png(self, dpi: float, compress_level: int = 1) -> bytes:
        """The chart as PNG. The axes' frame, ticks and labels are drawn once and kept as a
        background while the limits and labels stay; each drawing then paints only the chart's
        own artists (bars, lines, texts, legend, title) over it, and the frame's spines again
        on top. With new limits or labels, the whole figure is drawn (and kept) again."""
        from PIL import Image

        figure, canvas = self.figure, self.figure.canvas
        if figure.dpi != dpi:
            figure.set_dpi(dpi)
            self._background = None
        moving = self._moving()
        for artist in moving:
            artist.set_animated(True)
        key = self._background_key()
        if self._background is None or self._background[0] != key:
            canvas.draw()
            self._background = (self._background_key(), canvas.copy_from_bbox(figure.bbox))
        else:
            canvas.restore_region(self._background[1])
        for artist in sorted(moving, key=lambda a: a.get_zorder()):
            if artist.get_visible():
                self.ax.draw_artist(artist)
        for spine in self.ax.spines.values():
            self.ax.draw_artist(spine)
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=compress_level, dpi=(dpi, dpi))
        return buffer.getvalue()

    def forget_background(self) -> None:
        """Draw the whole figure next time (after a change the background key does not see)."""
        self._background = None

    def _moving(self) -> list[Any]:
        legend = self.ax.get_legend()
        return [*self._own, *self.extra, self.ax.title, *([legend] if legend is not None else [])]

    def _background_key(self) -> tuple[Any, ...]:
        ax = self.ax
        return (
            ax.get_xlim(),
            ax.get_ylim(),
            ax.get_xlabel(),
            ax.get_ylabel(),
            tuple(ax.get_position().bounds),
            tuple(id(a) for a in self._own),
        )

    def update(self, breakdown: Breakdown) -> bool:
        """Show ``breakdown``; False when its figures are the ones already shown (nothing to redraw)."""
        data = self.kind.data(breakdown)
        if data == self.data:
            return False
        self.data = data
        if not self.kind.update(self.ax, self._drawn, data):
            for artist in self._own:
                artist.remove()
            self.ax.containers.clear()
            # Scale the new drawing from scratch, as on a fresh axes: a panel's earlier limits
            # turned autoscaling off, and the removed artists still count in the data limits.
            self.ax.relim()
            self.ax.set_autoscale_on(True)
            self._drawn, self._own = self._draw()
        return True

    def _draw(self) -> tuple[dict[str, Any], list[Any]]:
        before = set(self.ax.get_children())
        drawn = self.kind.draw(self.ax, self.data)
        return drawn, [artist for artist in self.ax.get_children() if artist not in before]
