"""``triage predict`` writes, from the model's decision arrays, exactly what ``triage_many`` and
the router decide ticket by ticket; and the arrays come out the same however they are chunked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import ticket_triage.core.model as model_module
from ticket_triage.cli import app
from ticket_triage.core.features import COMPILED, Featurizer
from ticket_triage.core.model import TriageModel
from ticket_triage.core.routing import Router
from ticket_triage.sample import SAMPLE_TICKETS
from ticket_triage.training.data import read_tickets

SAMPLE = Path(str(SAMPLE_TICKETS))


def test_predict_columns_match_triage_many_and_routing(sample_model: Path, tmp_path: Path):
    # GIVEN 800 sample tickets with their metadata (the default routing rules read it)
    data = tmp_path / "tickets.csv"
    pd.read_csv(SAMPLE, dtype=str).iloc[1200:2000].to_csv(data, index=False)
    out = tmp_path / "scored.csv"
    # WHEN `triage predict` scores them in batches of 300
    result = CliRunner().invoke(
        app, ["predict", str(sample_model), str(data), "--out", str(out), "--batch-size", "300"]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    # THEN every column is what the per-ticket objects and the router say
    model = TriageModel.load(sample_model)
    tickets = read_tickets(data, list(model.meta["metadata"]), require_labels=False).tickets
    router = Router.default(model.head_classes)
    expected = model.triage_many(tickets)
    for i, (ticket, decision) in enumerate(zip(tickets, expected, strict=True)):
        row = scored.iloc[i]
        for name, head in decision.heads.items():
            assert row[f"{name}_label"] == head.label
            assert float(row[f"{name}_confidence"]) == round(head.confidence, 6)
            assert row[f"{name}_needs_review"] == str(head.needs_review)
        assert row["needs_review"] == str(decision.needs_review)
        labels = {name: head.label for name, head in decision.heads.items()}
        route = router.route(labels, decision.needs_review, ticket["metadata"])
        assert (row["queue"], row["queue_rule"]) == (route.queue, route.rule)
    assert set(scored["queue"]) > {"review"}  # not vacuous: several queues


def test_decide_texts_is_independent_of_the_chunk_size(
    sample_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = TriageModel.load(sample_model)
    tickets = read_tickets(SAMPLE, list(model.meta["metadata"])).tickets[:500]
    texts = [model.text_of(ticket) for ticket in tickets]
    whole = model.decide_texts(texts).heads
    monkeypatch.setattr(model_module, "BATCH_ROWS", 64)
    chunked = model.decide_texts(texts).heads
    for name, head in whole.items():
        np.testing.assert_array_equal(chunked[name].label_index, head.label_index)
        np.testing.assert_allclose(chunked[name].probabilities, head.probabilities, atol=1e-12)
        np.testing.assert_array_equal(chunked[name].needs_review, head.needs_review)


@pytest.mark.skipif(not COMPILED, reason="the compiled featuriser is not installed")
def test_compiled_batch_scoring_matches_the_numpy_batch(sample_model: Path) -> None:
    # GIVEN one model scoring batches in C (text by text) and the same model in numpy
    compiled = TriageModel.load(sample_model)
    pure = TriageModel.load(sample_model)
    pure.featurize = Featurizer(pure.features, compiled=False)
    assert compiled.featurize.compiled
    assert not pure.featurize.compiled
    tickets = read_tickets(SAMPLE, list(compiled.meta["metadata"])).tickets[:500]
    texts = [compiled.text_of(ticket) for ticket in tickets]
    # WHEN both decide the same 500 tickets
    fast, slow = compiled.decide_texts(texts), pure.decide_texts(texts)
    # THEN the decisions and the drift shares agree
    for name, head in slow.heads.items():
        np.testing.assert_array_equal(fast.heads[name].label_index, head.label_index)
        np.testing.assert_allclose(fast.heads[name].probabilities, head.probabilities, atol=1e-9)
        np.testing.assert_array_equal(fast.heads[name].needs_review, head.needs_review)
    np.testing.assert_allclose(fast.unseen_share, slow.unseen_share, atol=1e-12)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_predict_matches_the_single_ticket_path_on_a_shared_dataset(
    sample_model: Path, shared_datasets: Path, tmp_path: Path, suffix: str
) -> None:
    # GIVEN 1,500 real support tickets of the shared data, with metadata the routing reads
    # (cycled over the bundled sample's values), as CSV or Parquet
    frame = pd.read_csv(
        shared_datasets / "support_tickets_sample" / "tickets.csv", dtype=str, keep_default_na=False
    ).iloc[:1500]
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    model = TriageModel.load(sample_model)
    names = list(model.meta["metadata"])
    for name in names:
        frame[name] = sample[name].iloc[: len(frame)].to_numpy()
    data = tmp_path / f"tickets{suffix}"
    frame.to_csv(data, index=False) if suffix == ".csv" else frame.to_parquet(data, index=False)
    out = tmp_path / f"scored{suffix}"
    # WHEN `triage predict` scores them in batches of 400, on two forked workers (CSV) or in one
    # thread (Parquet)
    workers = "2" if suffix == ".csv" else "1"
    arguments = ["predict", str(sample_model), str(data), "--out", str(out)]
    result = CliRunner().invoke(app, [*arguments, "--batch-size", "400", "--workers", workers])
    assert result.exit_code == 0, result.output
    if suffix == ".csv":
        scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    else:
        scored = pd.read_parquet(out).astype(str)
    # THEN the input columns come back unchanged, and every decision is what the API's path
    # decides for that ticket alone (one compiled call, plain-Python calibration)
    pd.testing.assert_frame_equal(scored[list(frame.columns)], frame.reset_index(drop=True))
    router = Router.default(model.head_classes)
    for i, row in enumerate(scored.itertuples(index=False)):
        values = row._asdict()
        ticket = {
            "subject": frame.subject.iat[i],
            "body": frame.body.iat[i],
            "metadata": {name: frame[name].iat[i] for name in names},
        }
        alone = model.triage(ticket)
        for name, head in alone.heads.items():
            assert values[f"{name}_label"] == head.label
            assert float(values[f"{name}_confidence"]) == pytest.approx(head.confidence, abs=6e-7)
            assert values[f"{name}_needs_review"] == str(head.needs_review)
        route = router.route(alone.labels, alone.needs_review, ticket["metadata"])
        assert (values["queue"], values["queue_rule"]) == (route.queue, route.rule)
        assert values["model_version"] == model.version
    assert scored["queue"].nunique() > 2  # not vacuous: several queues


@pytest.mark.skipif(not COMPILED, reason="the compiled featuriser is not installed")
def test_threads_sharing_one_model_score_what_one_thread_scores(sample_model: Path) -> None:
    # GIVEN one loaded model and 2,000 sample tickets in 16 batches
    from concurrent.futures import ThreadPoolExecutor

    model = TriageModel.load(sample_model)
    tickets = read_tickets(SAMPLE, list(model.meta["metadata"])).tickets[:2000]
    texts = [model.text_of(ticket) for ticket in tickets]
    batches = [texts[start : start + 125] for start in range(0, len(texts), 125)]
    # WHEN four threads score the batches at once (the C call releases the GIL meanwhile)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(model._score_compiled, batches))
    # THEN every batch has exactly the bits it has scored alone, and those of the one-ticket call
    for batch, (scores, unseen) in zip(batches, together, strict=True):
        alone_scores, alone_unseen = model._score_compiled(batch)
        assert np.array_equal(scores, alone_scores)
        assert np.array_equal(unseen, alone_unseen)
    first, share = model._score_one(texts[0])
    assert together[0][0][0].tolist() == first
    assert together[0][1][0] == share
