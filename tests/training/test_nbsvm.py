"""NBSVM folds its naive-Bayes scaling into plain linear weights (what the artifact stores)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from ticket_triage.training.nbsvm import NBLinearSVC


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = sp.random(300, 50, density=0.2, format="csr", random_state=1)
    x.data = rng.random(x.nnz)
    y = np.array(["a", "b", "c"])[(np.asarray(x[:, :3].sum(axis=1)).ravel() * 7).astype(int) % 3]
    return x, y


@pytest.mark.parametrize("n_classes", [2, 3])
def test_folded_weights_give_the_scaled_models_scores(data, n_classes):
    x, y = data
    if n_classes == 2:
        y = np.where(y == "a", "a", "other")
    # GIVEN NBSVM fitted on these rows
    model = NBLinearSVC(C=1.0, random_state=0).fit(x, y)
    present = x.copy()
    present.data[:] = 1
    # THEN each class's score is its LinearSVC on the ratio-scaled rows, from the folded coef_
    targets = model.classes_[1:] if n_classes == 2 else model.classes_
    for k, label in enumerate(targets):
        p = 1 + present.T @ (y == label)
        q = 1 + present.T @ (y != label)
        ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        scaled = x @ sp.diags(ratio)
        svm = LinearSVC(C=1.0, class_weight="balanced", random_state=0).fit(scaled, y == label)
        got = model.decision_function(x)
        got = got if got.ndim == 1 else got[:, k]
        np.testing.assert_allclose(got, svm.decision_function(scaled), atol=1e-9)
    # AND its shapes are LinearSVC's: one score column for two classes
    assert model.coef_.shape == (1 if n_classes == 2 else 3, 50)
    assert set(model.predict(x)) <= set(model.classes_)


def test_the_threads_change_nothing(data):
    x, y = data
    one = NBLinearSVC(random_state=0, n_jobs=1).fit(x, y)
    two = NBLinearSVC(random_state=0, n_jobs=2).fit(x, y)
    assert np.array_equal(one.coef_, two.coef_)
    assert np.array_equal(one.intercept_, two.intercept_)
