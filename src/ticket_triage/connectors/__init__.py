"""Help-desk connectors: Zendesk, Freshdesk and GitHub Issues, in and out.

A ticket created in a help desk arrives as a signed webhook, is triaged, and the decision is
written back through the desk's own REST API (group, priority, triage tags or labels); an agent's
later correction in the desk flows back as feedback; the desk's history can be imported as
training data. Nothing is lost and nothing is done twice: a webhook is answered only once the
ticket is stored with its write-back in the outbox (:mod:`ticket_triage.production.outbox`), a
worker retries the write-back until it is done, and redeliveries are recognised.

``config.py`` (``connectors.toml``), ``events.py`` (the shapes every desk is read into),
``desk.py`` (what the desks share), ``zendesk.py``, ``freshdesk.py``, ``github.py`` (each desk's
signatures, payloads, write-backs and history), ``http.py`` (the API client, retries and rate
limits), ``intake.py`` (what an event leads to), ``worker.py`` (the outbox worker),
``backfill.py`` (history to a training file), ``runtime.py`` (all of it for one process).

The rule of this layer: it builds on the inference core (the pipeline) and the production loop
(the store and its outbox), with httpx2 for the calls; it never imports serving, training or the
CLI. The FastAPI route that receives the webhooks lives in serving
(:mod:`ticket_triage.serving.webhooks`).
"""
