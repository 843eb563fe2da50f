"""Fill a template for one ticket: ``[a|b]`` picks an alternative, ``{slot}`` draws a filler.

Used by :mod:`ticket_triage.sample.generator`; the templates and fillers are the data of
:mod:`ticket_triage.sample.templates`.
"""

from __future__ import annotations

import re
from random import Random

from ticket_triage.sample.templates import (
    ERROR_CODES,
    FILLERS,
    MONTHS,
    PHONES,
    PLANS,
    SHARED_FILLERS,
    URL_PATHS,
)

__all__ = ["Slots", "domain", "render"]

_ALTERNATION = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


class Slots:
    """Fill ``{slot}`` placeholders for one ticket; a slot keeps its value within the ticket.

    Keeping the value means a ticket that names "the reports page" twice names the same page, which
    real tickets do and which keeps the wording coherent.
    """

    def __init__(self, rng: Random, lang: str, topic: str, region: str, plan: str) -> None:
        self._rng = rng
        self._lang = lang
        self._topic = topic
        self._region = region
        self._plan = plan
        self._values: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self._values:
            self._values[name] = self._draw(name)
        return self._values[name]

    def _draw(self, name: str) -> str:
        rng = self._rng
        if name in FILLERS[self._lang]:
            return rng.choice(FILLERS[self._lang][name])
        if name in SHARED_FILLERS:
            return rng.choice(SHARED_FILLERS[name])
        if name == "plan_name":
            # Mostly the customer's own plan; sometimes the one they want to move to.
            plan = self._plan if rng.random() < 0.8 else rng.choice(PLANS)
            return plan.capitalize()
        if name == "code":
            return rng.choice(ERROR_CODES[self._topic])
        if name == "amount":
            cents = rng.choice(("00", "99", "50"))
            if self._lang == "de":
                return f"{rng.randint(9, 2999)},{cents} €"
            return f"{rng.choice(('$', '€', '£'))}{rng.randint(9, 2999)}.{cents}"
        if name == "invoice":
            return f"INV-{rng.randint(2023, 2025)}-{rng.randint(100, 99999):05d}"
        if name == "ticket":
            return f"#{rng.randint(10000, 99999)}"
        if name in ("count", "count2"):
            return str(rng.randint(2, 40))
        if name == "account_id":
            return f"ACC-{rng.randint(100000, 999999)}"
        if name == "month":
            return rng.choice(MONTHS[self._lang])
        if name == "domain":
            return domain(self("company"))
        if name == "url":
            path = render(rng.choice(URL_PATHS[self._topic]), rng, self)
            return f"https://app.example.com/{path}"
        if name == "phone":
            template = rng.choice(PHONES[self._region])
            return template.format(
                digits=f"{rng.randint(1000000, 9999999)}", digits4=f"{rng.randint(0, 9999):04d}"
            )
        raise ValueError(f"unknown template slot {name!r}")


def domain(company: str) -> str:
    """Turn a company name into a plausible mail domain (``Acme GmbH`` -> ``acme.example``)."""
    return re.sub(r"[^a-z]", "", company.lower().split()[0]) + ".example"


def render(template: str, rng: Random, slots: Slots) -> str:
    """Expand ``[a|b]`` alternatives, then fill ``{slot}`` placeholders."""
    text = _ALTERNATION.sub(lambda match: rng.choice(match.group(1).split("|")), template)
    return _SLOT.sub(lambda match: slots(match.group(1)), text)
