"""The project's own synthetic support tickets: the demo model's training data.

``tickets.csv`` (3,600 tickets) is what :func:`~ticket_triage.sample.generator.write_sample_csv`
writes with its defaults (a test regenerates it byte for byte); ``triage sample`` writes it again.
Nothing here is real customer text, and nothing here measures quality: that is done on the public
data in ``../shared/datasets``. The rule of this layer: the standard library only.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_TICKETS"]

#: The bundled sample tickets (CSV in the data contract).
SAMPLE_TICKETS = Path(__file__).with_name("tickets.csv")
