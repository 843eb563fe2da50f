"""The training changes of issue 5: one set of out-of-fold scores per head, streaming options."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from ticket_triage.core.errors import ConfigError
from ticket_triage.training.config import TrainConfig, load_config
from ticket_triage.training.fitting import calibrated_from_scores


@pytest.mark.parametrize("method", ["temperature", "sigmoid"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_calibrated_from_scores_is_calibrated_classifier_cv(method: str, n_classes: int) -> None:
    # GIVEN data, folds and the LinearSVC of a head
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8))
    y = np.array(["a", "b", "c"][:n_classes], dtype=object)[rng.integers(0, n_classes, 300)]
    x[:, 0] += (y == "a") * 1.5
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    svm = LinearSVC(class_weight="balanced", random_state=0)
    # WHEN the calibrator is fitted on out-of-fold scores computed once (what train.py does)
    scores = cross_val_predict(svm, x, y, cv=folds, method="decision_function")
    final = LinearSVC(class_weight="balanced", random_state=0).fit(x, y)
    ours = calibrated_from_scores(final, scores.reshape(len(y), -1), y, method)
    # THEN it predicts exactly what CalibratedClassifierCV(ensemble=False) fits itself
    reference = CalibratedClassifierCV(svm, method=method, cv=folds, ensemble=False).fit(x, y)
    np.testing.assert_array_equal(ours.classes_, reference.classes_)
    np.testing.assert_allclose(
        ours.predict_proba(x), reference.predict_proba(x), rtol=0, atol=1e-12
    )


def test_streaming_options_are_validated() -> None:
    assert TrainConfig(streaming=True).epochs == 5
    with pytest.raises(ConfigError, match="streaming supports neither"):
        load_config(None, streaming=True, resample=True)
    with pytest.raises(ConfigError, match="leave rows to train on"):
        load_config(None, test_size=0.5, calibration_share=0.45)
    with pytest.raises(ConfigError, match="chunk_rows"):
        load_config(None, chunk_rows=10)
