"""The batch scorer sums each row's contiguous values in one segmented sum (``np.add.reduceat``);
rows without any feature, which reduceat would otherwise fill with a neighbour's value, score as
their intercepts, wherever they sit in the batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ticket_triage.core.features import SparseRows
from ticket_triage.core.model import TriageModel


def test_batch_scores_match_single_scores_with_empty_rows(sample_model: Path) -> None:
    # GIVEN a batch whose first, middle and last rows have no hashed feature at all
    model = TriageModel.load(sample_model)
    texts = ["Payment failed!!! error 402", "App crashes on upload", "Passwort zurücksetzen"]
    full = model.featurize(texts)
    sizes = np.diff(full.indptr)
    layout = [0, sizes[0], 0, sizes[1], sizes[2], 0]
    rows = SparseRows(np.concatenate([[0], np.cumsum(layout)]), full.indices, full.counts)
    # WHEN the batch is scored at once
    scores = model.scores(rows)
    # THEN the empty rows score exactly the intercepts, the others as one ticket alone does
    empty = model.scores(SparseRows(np.array([0, 0]), full.indices[:0], full.counts[:0]))
    for i in (0, 2, 5):
        np.testing.assert_allclose(scores[i], empty[0], rtol=0, atol=1e-12)
    for i, text in zip((1, 3, 4), texts, strict=True):
        np.testing.assert_allclose(scores[i], model.scores(model.featurize([text]))[0], atol=1e-6)
