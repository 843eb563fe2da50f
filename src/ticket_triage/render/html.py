"""Small HTML helpers: escaping, number formatting, the shared styles and a self-contained page.

Every page this package writes must stand alone (attached to a ticket, opened from a bucket,
served on a closed network), so styles are inline and figures are data URIs; and every string
that comes from data (class names, queues, paths) is escaped, since labels are user-defined.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["CSS", "esc", "figures_html", "fmt", "page", "pct"]

#: The styles of the evaluation and monitoring reports (the dashboard adds its own around them).
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #d9e2ec; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
.meta { color: #52606d; margin: 0.2em 0; }
code { background: #f0f4f8; padding: 0 0.25em; border-radius: 3px; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #d9e2ec; padding: 0.25em 0.7em; text-align: left; }
th { background: #f0f4f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.target td { font-weight: 600; background: #fffbea; }
.verdict { padding: 0.5em 0.8em; border-left: 4px solid; border-radius: 3px; margin: 0.6em 0; }
.verdict.ok { background: #effcf6; border-color: #27ab83; }
.verdict.warn { background: #fff3c4; border-color: #cb6e17; font-weight: 600; }
.verdict.none { background: #f5f7fa; border-color: #9aa5b1; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
figcaption { font-size: 0.85em; color: #52606d; max-width: 360px; }
nav a { margin-right: 1em; }
"""


def esc(value: object) -> str:
    """Escape anything for HTML text and attribute values.

    Examples
    --------
    >>> esc('<script>"x"</script>')
    '&lt;script&gt;&quot;x&quot;&lt;/script&gt;'
    """
    return html.escape(str(value), quote=True)


def fmt(value: object, digits: int = 3) -> str:
    """Format a metric for a table cell, already escaped; missing values read ``n/a``.

    Examples
    --------
    >>> fmt(0.84213), fmt(1200), fmt(None), fmt(float("nan")), fmt(True)
    ('0.842', '1,200', 'n/a', 'n/a', 'yes')
    """
    if value is None or isinstance(value, bool):
        return "n/a" if value is None else ("yes" if value else "no")
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return "n/a" if not math.isfinite(value) else f"{float(value):.{digits}f}"
    return esc(value)


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal; ``n/a`` when unknown.

    Examples
    --------
    >>> pct(0.1234), pct(None)
    ('12.3%', 'n/a')
    """
    return "n/a" if value is None else f"{value:.1%}"


def figures_html(figures: Sequence[tuple[str, str, str]]) -> str:
    """``(data URI, alt text, caption)`` triples as a row of captioned images ("" for none)."""
    if not figures:
        return ""
    items = [
        f'<figure><img src="{uri}" alt="{esc(alt)}"><figcaption>{esc(caption)}</figcaption>'
        "</figure>"
        for uri, alt, caption in figures
    ]
    return '<div class="figures">' + "".join(items) + "</div>"


def page(title: str, css: str, body: Sequence[str]) -> str:
    """A whole self-contained HTML page: the title as ``<title>`` and ``<h1>``, then ``body``."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{css}</style>",
            "</head>",
            "<body>",
            f"<h1>{esc(title)}</h1>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
