"""The inference core stays numpy-only: importing it must not load scikit-learn, scipy or pandas."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_model_does_not_load_heavy_libraries():
    # GIVEN a fresh interpreter (this one has scikit-learn loaded by other tests)
    code = (
        "import sys, ticket_triage.core.model;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'pandas'}))"
    )
    # WHEN it imports ticket_triage.core.model
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # THEN none of the training libraries came along
    assert result.stdout.strip() == "[]"
