"""The single-ticket calibration (plain Python) agrees with the vectorised one (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from ticket_triage.core.heads import Calibration, calibrate, calibrate_one

CALIBRATIONS = [
    (Calibration("temperature", beta=1.7), 3),
    (Calibration("temperature", beta=0.4), 2),
    (Calibration("sigmoid", a=(-2.0, -1.5, -3.0, -0.7), b=(0.1, -0.2, 0.3, 0.0)), 4),
    (Calibration("sigmoid", a=(-2.5,), b=(0.2,)), 2),
    (Calibration("sigmoid", a=(900.0, 900.0, 900.0), b=(0.0, 0.0, 0.0)), 3),  # all underflow
]


@pytest.mark.parametrize(("calibration", "n_classes"), CALIBRATIONS)
def test_calibrate_one_matches_calibrate(calibration, n_classes):
    # GIVEN raw scores, including extreme ones that overflow exp
    columns = 1 if n_classes == 2 else n_classes
    rng = np.random.default_rng(0)
    scores = np.vstack([rng.normal(0, 3, (200, columns)), np.full((1, columns), 800.0)])
    # WHEN both paths calibrate them
    batch = calibrate(scores, calibration, n_classes)
    single = np.array([calibrate_one(row.tolist(), calibration, n_classes) for row in scores])
    # THEN they agree to rounding, and every row is a distribution
    np.testing.assert_allclose(single, batch, rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0)
