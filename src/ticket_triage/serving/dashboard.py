"""The ``GET /dashboard`` page: the monitoring report of the prediction log, and a form to try a
ticket and see its decision, queue and explanation.

One self-contained HTML page: inline CSS and a few lines of JavaScript that call the service's
own ``POST /v1/triage?explain=true``; no external scripts, fonts or images, so it works on a
closed network and under a strict Content-Security-Policy of ``'self'`` plus inline. Ticket
text typed into the form goes only to that endpoint, and every value shown is inserted as
text, never as HTML.

The report itself is the monitoring package's
(:func:`ticket_triage.production.monitoring.build_report` and
:func:`~ticket_triage.production.monitoring.report_html`): this module only serves it, rendered
at most once a minute per window (plotting takes about a second), without figures where
matplotlib is not installed (the Lambda package).
"""

from __future__ import annotations

import importlib.util
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from ticket_triage.core.errors import StoreUnavailable
from ticket_triage.production.monitoring import CSS, build_report, report_html
from ticket_triage.render.html import esc
from ticket_triage.render.html import page as render_page
from ticket_triage.serving.dependencies import ReadyDep
from ticket_triage.serving.service import Service

if TYPE_CHECKING:  # SQLAlchemy is loaded only with a database (the Lambda handler has none)
    from ticket_triage.production.outbox import Outbox

__all__ = ["DASHBOARD_TTL_SECONDS", "Dashboard", "page", "router"]

#: How long a rendered dashboard is reused: plotting the report takes about a second.
DASHBOARD_TTL_SECONDS = 60.0

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem 2rem;
       color: #1d2430; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; }
.muted { color: #5b6473; }
form { display: grid; gap: .5rem; max-width: 720px; }
input, textarea { font: inherit; padding: .4rem; border: 1px solid #b8c0cc; border-radius: 4px; }
textarea { min-height: 6rem; }
button { font: inherit; padding: .45rem 1.2rem; border: 0; border-radius: 4px; background: #2456c7;
         color: white; cursor: pointer; justify-self: start; }
#result { margin-top: 1rem; padding: .8rem 1rem; border-left: 4px solid #2456c7;
          background: #f3f6fb; max-width: 720px; }
#result[hidden] { display: none; }
.error { border-left-color: #b3261e !important; background: #fbeeed !important; }
table { border-collapse: collapse; margin: .5rem 0; }
td, th { padding: .25rem .7rem; border-bottom: 1px solid #e2e6ec; text-align: left; }
img { max-width: 100%; }
"""

_SCRIPT = """
const form = document.getElementById("try");
const result = document.getElementById("result");
function add(parent, tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const metadata = {};
  for (const line of form.metadata.value.split("\\n")) {
    const at = line.indexOf("=");
    if (at > 0) metadata[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const headers = {"content-type": "application/json"};
  if (form.token && form.token.value) headers.authorization = "Bearer " + form.token.value;
  result.hidden = false;
  result.className = "";
  result.replaceChildren(add(document.createElement("div"), "span", "Triaging…"));
  try {
    const response = await fetch("/v1/triage?explain=true", {
      method: "POST", headers,
      body: JSON.stringify({subject: form.subject.value, body: form.body.value, metadata}),
    });
    const data = await response.json();
    result.replaceChildren();
    if (!response.ok) {
      result.className = "error";
      const detail = Array.isArray(data.detail)
        ? data.detail.map((p) => p.field + ": " + p.msg).join("; ") : String(data.detail);
      add(result, "strong", "Error " + response.status + ": ");
      add(result, "span", detail);
      return;
    }
    add(result, "div", "Queue: " + data.queue + (data.needs_review ? " (needs review)" : ""))
      .id = "queue";
    for (const head of ["urgency", "topic"]) {
      const decision = data[head];
      if (!decision) continue;
      add(result, "div", head + ": " + decision.label + " ("
        + Math.round(decision.confidence * 100) + "% confident)").className = "decision";
      const why = data.explanation && data.explanation[head];
      if (why && why.contributions.length) {
        const list = add(result, "ul");
        list.className = "why";
        for (const c of why.contributions) {
          add(list, "li", c.ngrams.join(" / ") + "  +" + c.weight.toFixed(2)
            + " towards " + why.label + " over " + why.versus);
        }
      }
    }
    add(result, "div", "decision " + data.id + ", model " + data.model_version)
      .className = "muted";
  } catch (error) {
    result.className = "error";
    result.replaceChildren(add(document.createElement("div"), "span", String(error)));
  }
});
"""


def page(
    report: str | None,
    model_version: str,
    *,
    token_field: bool,
    note: str,
    report_css: str = "",
) -> str:
    """The whole dashboard page.

    Parameters
    ----------
    report
        The monitoring report's body (from
        :func:`ticket_triage.production.monitoring.report_html`), or None when the service keeps
        no prediction log.
    model_version
        Shown in the heading.
    token_field
        Add a bearer-token input to the form (the triage endpoints are protected).
    note
        One line under the heading: the window the report covers, or why there is none.
    report_css
        The report's own styles (:data:`ticket_triage.production.monitoring.CSS`).
    """
    token = (
        '<input name="token" type="password" placeholder="API token" autocomplete="off">'
        if token_field
        else ""
    )
    body = report or "<p>No prediction log is configured (TRIAGE_DATABASE_URL).</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ticket-triage dashboard</title><style>{_STYLE}{report_css}</style></head>
<body>
<h1>ticket-triage</h1>
<p class="muted">Model {esc(model_version)}. {esc(note)}</p>
<h2>Try a ticket</h2>
<form id="try">
  <input name="subject" placeholder="Subject" aria-label="Subject">
  <textarea name="body" placeholder="Body" aria-label="Body" required></textarea>
  <textarea name="metadata" placeholder="metadata, one key=value per line (plan=pro)"
    aria-label="Metadata" rows="2"></textarea>
  {token}
  <button type="submit">Triage</button>
</form>
<div id="result" hidden></div>
<h2>Monitoring</h2>
{body}
<script>{_SCRIPT}</script>
</body></html>
"""


class Dashboard:
    """The dashboard of one service: the page of each window, cached for
    :data:`DASHBOARD_TTL_SECONDS`."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._cache: dict[int, tuple[float, str]] = {}

    def render(self, days: int) -> str:
        """The page with the monitoring report of the last ``days`` days of the prediction log."""
        now = time.monotonic()
        cached = self._cache.get(days)
        if cached is not None and now - cached[0] < DASHBOARD_TTL_SECONDS:
            return cached[1]
        service = self.service
        recorder = service.loaded.recorder
        report, note = None, f"The report covers the last {days} days of the prediction log."
        if recorder is None:
            note = "This service keeps no prediction log."
        else:
            # Plots need matplotlib, which the Lambda package leaves out: tables carry every
            # number either way.
            figures = importlib.util.find_spec("matplotlib") is not None
            try:
                recorder.flush()  # include the decisions still in the write buffer
                since = datetime.now(UTC) - timedelta(days=days)
                built = build_report(recorder.store, service.settings.model_dir, since=since)
                report = report_html(built, figures=figures)
            except StoreUnavailable:
                note = "The database is unavailable: no report until it is back."
        if service.canary_alert is not None:
            reason, version = service.canary_alert
            note += f" ALERT: a guard rail stopped canary {version} ({reason})."
        desks = service.loaded.connectors
        if desks is not None:
            report = (report or "") + _help_desks_html(desks.outbox)
        text = page(
            report,
            service.loaded.pipeline.model.version,
            token_field=service.settings.protect_triage,
            note=note,
            report_css=CSS,
        )
        self._cache[days] = (now, text)
        return text


def _help_desks_html(outbox: Outbox) -> str:
    """The help desks' outbox: rows per state, and the latest dead letters with their error."""
    try:
        counts, dead = outbox.counts(), outbox.rows(status="dead", limit=10)
    except StoreUnavailable:
        return "<h2>Help desks</h2><p>The database is unavailable.</p>"
    states = ("pending", "sending", "done", "superseded", "dead")
    out = ["<h2>Help desks</h2>", "<table><tr><th>desk</th>"]
    out += [f"<th>{state}</th>" for state in states] + ["</tr>"]
    for desk, found in sorted(counts.items()):
        cells = "".join(f"<td class='num'>{found[state]}</td>" for state in states)
        out.append(f"<tr><td>{esc(desk)}</td>{cells}</tr>")
    out.append("</table>")
    if not counts:
        out.append("<p>No help-desk events yet.</p>")
    if dead:
        out.append("<h3>Dead letters (triage connectors retry)</h3><ul class='dead'>")
        out += [
            f"<li>#{row['id']} {esc(row['desk'])} ticket {esc(row['external_id'])}: "
            f"{esc(row['last_error'])}</li>"
            for row in dead
        ]
        out.append("</ul>")
    return "\n".join(out)


router = APIRouter(tags=["health"])


#: Both pages need the model: an unready service says so in the API's JSON error body, which is
#: spelled out because FastAPI would list a response ``model`` under the page's text/html.
_UNREADY: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The model is not loaded (see /readyz).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
}


@router.get("/dashboard", response_class=HTMLResponse, responses=_UNREADY)
async def dashboard(
    request: Request,
    service: ReadyDep,
    days: Annotated[int, Query(ge=1, le=366, description="The report's window, in days.")] = 30,
) -> HTMLResponse:
    """The monitoring report (per-class quality, queues, drift, alerts) and a try-a-ticket form."""
    board: Dashboard = request.app.state.dashboard
    return HTMLResponse(await run_in_threadpool(board.render, days))


@router.get("/dashboard/compare", response_class=HTMLResponse, responses=_UNREADY)
async def compare_page(
    service: ReadyDep,
    live: Annotated[str, Query(min_length=1, max_length=64, description="Live version.")],
    candidate: Annotated[str, Query(min_length=1, max_length=64, description="Candidate.")],
    days: Annotated[int, Query(ge=1, le=366, description="The window, in days.")] = 7,
) -> HTMLResponse:
    """``triage compare`` as a page: live against candidate on the same tickets."""
    from ticket_triage.production.monitoring.compare import compare
    from ticket_triage.production.monitoring.html import compare_html

    recorder = service.loaded.recorder
    if recorder is None:
        body = "<p>No prediction log is configured (TRIAGE_DATABASE_URL).</p>"
    else:

        def build() -> str:
            recorder.flush()
            since = datetime.now(UTC) - timedelta(days=days)
            try:
                return compare_html(compare(recorder.store, live, candidate, since=since))
            except ValueError as exc:
                return f'<p class="verdict warn">{esc(str(exc))}</p>'
            except StoreUnavailable:
                return "<p>The database is unavailable: no comparison until it is back.</p>"

        body = await run_in_threadpool(build)
    title = f"ticket-triage: {live} against {candidate}, last {days} days"
    return HTMLResponse(render_page(title, CSS, [body]))
