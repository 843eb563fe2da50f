"""Drawing helpers shared by the evaluation and monitoring reports.

matplotlib is imported only inside these functions, never at module level: importing a report
module (for example by the CLI, to show ``--help``, or by the dashboard on Lambda, which ships
without matplotlib) stays cheap. Figures are plain :class:`~matplotlib.figure.Figure` objects
rendered by the Agg canvas, never pyplot: no global figure state, no GUI backend, safe in a
server.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Figures", "colors", "drawn", "finish_reliability", "label", "new_axes", "png_data_uri"]

#: Figure size in inches and resolution: small enough that two heads (six figures) stay well under
#: 1 MB of HTML, large enough to read a 10-class confusion matrix.
FIGSIZE = (4.0, 3.5)
DPI = 90
#: Class names longer than this are shortened in figures (tables always show the full name).
MAX_LABEL = 18

#: Drawn figures as ``(data URI, alt text, caption)``, what the pages embed.
Figures = list[tuple[str, str, str]]


def new_axes() -> tuple[Figure, Axes]:
    """Make a small figure with one axes, outside pyplot so there is no global state."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    ax = fig.add_subplot()
    return fig, ax


def png_data_uri(fig: Figure) -> str:
    """Render a figure with the Agg canvas into a ``data:image/png;base64,...`` URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    # A tight box grows the image to fit long tick labels instead of squeezing the axes.
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def drawn(plans: Sequence[tuple[Callable[[], Figure], str, str]]) -> Figures:
    """Draw each ``(draw, alt text, caption)`` plan into ``(data URI, alt text, caption)``.

    matplotlib warns for every glyph a label uses that DejaVu Sans lacks (emoji, CJK). The glyph
    is drawn as a box; that is cosmetic and must not fail a run under ``-W error``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        return [(png_data_uri(draw()), alt, caption) for draw, alt, caption in plans]


def label(name: str) -> str:
    """Make a class name safe and short for matplotlib text.

    ``$`` would switch matplotlib to mathtext (and an unbalanced one raises), so it is escaped;
    long names are cut so that tick labels do not dwarf the plot.

    Examples
    --------
    >>> label("costs $5"), label("a" * 30)
    ('costs \\\\$5', 'aaaaaaaaaaaaaaaaa…')
    """
    if len(name) > MAX_LABEL:
        name = name[: MAX_LABEL - 1] + "…"
    return name.replace("$", r"\$")


def colors(k: int) -> list[tuple[float, float, float, float]]:
    """One distinct colour per class: tab10 up to ten classes, tab20 beyond."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if k <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(k)]


def finish_reliability(ax: Axes, title: str) -> None:
    """The frame every reliability diagram shares (training report and monitoring report)."""
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("top-class confidence", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, loc="upper left")
