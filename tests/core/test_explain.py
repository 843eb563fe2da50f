"""Explanations: the n-grams that moved a decision, and shares that add up exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ticket_triage.training.config import TrainConfig
from ticket_triage.training.fitting import combined_texts, feature_config
from ticket_triage.training.in_memory import fit
from ticket_triage.training.train import build_artifact


@pytest.fixture(scope="module")
def model_and_tickets(shared_datasets, tmp_path_factory):
    frame = pd.read_csv(
        shared_datasets / "support_tickets_sample" / "tickets.csv", dtype=str, keep_default_na=False
    ).iloc[:800]
    tickets = [{"subject": s, "body": b} for s, b in zip(frame.subject, frame.body, strict=True)]
    labels = {
        "urgency": frame.urgency.to_numpy(object)[:600],
        "is_bug": np.where(frame.topic == "bug", "yes", "no").astype(object)[:600],  # binary
    }
    config = TrainConfig(cv_folds=3)  # word, char_wb and subject n-grams
    texts = combined_texts(tickets[:600], feature_config(config))
    model = build_artifact(fit(texts, labels, config), config, {}, tmp_path_factory.mktemp("m"))
    return model, tickets[600:]


def test_contributions_and_bias_add_up_to_the_margin(model_and_tickets):
    model, tickets = model_and_tickets
    for ticket in tickets[:60]:
        scores = model.scores(model.featurize([model.text_of(ticket)]))[0]
        # GIVEN the explanation's top 3 n-grams per head
        for name, explanation in model.explain(ticket, top=3).items():
            head = next(h for h in model.heads if h.name == name)
            columns = scores[head.columns]
            label, versus = (
                head.classes.index(explanation.label),
                head.classes.index(explanation.versus),
            )
            if len(head.classes) == 2:
                margin = 2 * columns[0] * (1 if label == 1 else -1)
            else:
                margin = columns[label] - columns[versus]
            listed = sum(c.weight for c in explanation.contributions)
            # THEN listed shares + the rest + bias are the margin, exactly ...
            assert listed + explanation.rest + explanation.bias == pytest.approx(margin, abs=1e-9)
            # ... and the label is the decision, the runner-up another class
            assert explanation.label == model.triage(ticket)[name].label
            assert explanation.versus != explanation.label


def test_explained_ngrams_come_from_the_ticket_and_are_ranked(model_and_tickets):
    model, tickets = model_and_tickets
    for ticket in tickets[:40]:
        text = model.text_of(ticket)
        for explanation in model.explain(ticket, top=3).values():
            weights = [c.weight for c in explanation.contributions]
            assert weights == sorted(weights, reverse=True)
            assert len(weights) <= 3
            assert all(w > 0 for w in weights)
            for contribution in explanation.contributions:
                for gram in contribution.ngrams:
                    assert all(token in text for token in _readable(gram).split(" "))


def _readable(name: str) -> str:
    """The text behind an n-gram's name: subject n-grams are prefixed, char n-grams are
    fragments with "…" where the word goes on (or a whole word in "‹›")."""
    return name.removeprefix("subject:").strip("…‹›")


def test_explanations_name_char_ngrams_as_fragments(model_and_tickets):
    # GIVEN explanations of many tickets with every contribution listed
    model, tickets = model_and_tickets
    names = {
        gram
        for ticket in tickets[:40]
        for explanation in model.explain(ticket, top=1000).values()
        for contribution in explanation.contributions
        for gram in contribution.ngrams
    }
    # THEN char n-grams are there, readable (no padding space), and so are subject n-grams
    fragments = {n for n in names if "…" in n or n.startswith("‹")}
    assert fragments
    assert all(n == n.strip() and " " not in n for n in fragments)
    assert any(n.startswith("subject:") for n in names)


def test_signal_tokens_explain_urgency():
    from ticket_triage.sample import SAMPLE_TICKETS
    from ticket_triage.training.data import read_tickets

    # GIVEN a model trained on the sample tickets, where "!!!" marks urgent tickets
    sample = read_tickets(SAMPLE_TICKETS)
    config = TrainConfig(cv_folds=3)
    texts = combined_texts(sample.tickets, feature_config(config))
    labels = {"urgency": np.array(sample.labels["urgency"], dtype=object)}
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        model = build_artifact(fit(texts, labels, config), config, {}, Path(directory))
        explanation = model.explain(
            {"subject": "Production down!!!", "body": "All users locked out, payment failed"}
        )["urgency"]
    # THEN the decision is high and "!!!" is among the n-grams that pushed it
    assert explanation.label == "high"
    assert any("!!!" in c.ngrams for c in explanation.contributions)
