"""Shared fixtures (the public datasets, a sample model, databases) and one rule for the whole run:
tests leave the repository as they found it.

Every test writes into its own temporary folder. At the end of the session the checkout is compared
with how it was at the start: a new entry in the repository root (a stray ``triage.db``), or a
tracked file changed or a new untracked one (a regenerated ``deploy/requirements.txt``), fails the
run and is named. pytest's and Hypothesis' own caches are the exceptions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from ticket_triage.core.model import TriageModel
    from ticket_triage.training.fitting import FittedModel

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
#: What the test tools themselves keep in the root (both are in .gitignore).
TOOL_CACHES = frozenset({".pytest_cache", ".hypothesis"})


def _checkout() -> tuple[frozenset[str], frozenset[str]] | None:
    """The root's entries and git's list of changed and untracked files; None without git."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(os.listdir(ROOT)), frozenset(status.splitlines())


def pytest_sessionstart(session: pytest.Session) -> None:
    session.stash[_CHECKOUT] = _checkout()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before, after = session.stash.get(_CHECKOUT, None), _checkout()
    if before is None or after is None:
        return
    problems = [
        f"new in the repository root: {name}" for name in after[0] - before[0] - TOOL_CACHES
    ]
    problems += [f"changed by the tests: {line}" for line in sorted(after[1] - before[1])]
    if not problems:
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("=", "the tests changed the repository (write to tmp_path)", red=True)
        for problem in problems:
            reporter.write_line(f"ERROR: {problem}", red=True)


_CHECKOUT = pytest.StashKey[tuple[frozenset[str], frozenset[str]] | None]()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets``: required under CI, skipped only on a machine without it."""
    if not SHARED_DATASETS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATASETS} is missing; CI must run beside ../shared")
        pytest.skip(f"{SHARED_DATASETS} not present on this machine")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def sample_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained once per test run on the first 1,200 bundled sample tickets (~2 s)."""
    import pandas as pd

    from ticket_triage.sample import SAMPLE_TICKETS
    from ticket_triage.training.config import TrainConfig
    from ticket_triage.training.train import train

    directory = tmp_path_factory.mktemp("sample_model")
    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    data = directory / "tickets.csv"
    sample.iloc[:1200].to_csv(data, index=False)
    train(data, directory / "model", TrainConfig())
    return directory / "model"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, and the real PostgreSQL server of
    ``TRIAGE_TEST_DATABASE_URL`` (``scripts/test-postgres.sh`` starts one; ``.ci/run`` does)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triage.db'}"
    url = os.environ.get("TRIAGE_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TRIAGE_TEST_DATABASE_URL is not set; .ci/run starts PostgreSQL")
        pytest.skip("no PostgreSQL server (run scripts/test-postgres.sh and export its URL)")
    return emptied(url)


@dataclass(frozen=True)
class Postgres:
    """The local PostgreSQL cluster ``scripts/test-postgres.sh`` started, which a fault test may
    stop (fast: open connections are cut, as in a crash) and start again."""

    url: str
    version: str
    name: str

    def stop(self) -> None:
        subprocess.run(["pg_ctlcluster", self.version, self.name, "stop", "-m", "fast"], check=True)

    def start(self) -> None:
        subprocess.run(["pg_ctlcluster", self.version, self.name, "start"], check=True)


@pytest.fixture
def stoppable_postgres() -> Postgres:
    """A real, empty PostgreSQL database whose server this test may stop and start (CI: the one
    .ci/run started; it needs root and Debian's postgresql-common)."""
    url = os.environ.get("TRIAGE_TEST_DATABASE_URL")
    reason = "TRIAGE_TEST_DATABASE_URL is not set"
    if shutil.which("pg_lsclusters") is None or os.geteuid() != 0:
        url, reason = None, "needs root and Debian's postgresql-common"
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"the PostgreSQL fault test cannot run: {reason}")
        pytest.skip(reason)
    clusters = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.split()
    return Postgres(emptied(url), clusters[0], clusters[1])


def emptied(url: str) -> str:
    """``url``'s database with every table an earlier test left dropped (in key order)."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)
    engine.dispose()
    return url


def _wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture(scope="session")
def wait_until() -> Callable[..., None]:
    """``wait_until(condition, timeout=30.0)``: poll until true, fail the test after timeout."""
    return _wait_until


def _scikit_learn_parity(
    fitted: FittedModel, model: TriageModel, texts: Sequence[str], heads: Sequence[str]
) -> None:
    rows = model.featurize(list(texts))
    ours = model.probabilities(model.scores(rows))
    # the hashed features are HashingVectorizer's
    reference = fitted.hasher.transform(texts)
    assert rows.indptr.tolist() == reference.indptr.tolist()
    assert rows.indices.tolist() == reference.indices.tolist()
    assert np.array_equal(rows.counts, reference.data)
    # and every head's calibrated probabilities are predict_proba's to 1e-6
    for head in heads:
        expected = fitted.pipeline(head).predict_proba(texts)
        np.testing.assert_allclose(ours[head], expected, rtol=0, atol=1e-6)


@pytest.fixture(scope="session")
def scikit_learn_parity() -> Callable[..., None]:
    """``scikit_learn_parity(fitted, model, texts, heads)``: the numpy core, batch-scoring
    ``texts``, gives the features and the probabilities of the scikit-learn pipeline ``fitted``
    (:class:`~ticket_triage.training.fitting.FittedModel`) that ``model`` was written from."""
    return _scikit_learn_parity
