"""One SparkSession for every Spark test: ``local[2]``, started once (about 10 s here).

Skipped only where pyspark or Java is missing and ``CI`` is not set; under CI (``.ci/run``
installs Debian's Java 17) a missing one fails the tests.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from importlib.util import find_spec
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _missing() -> str | None:
    if find_spec("pyspark") is None:
        return "pyspark is not installed (the spark extra)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (Spark needs Java 17+)"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The session the tests share; the CLI's ``--engine spark`` finds it running and uses it."""
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}; CI must run the Spark tests")
        pytest.skip(missing)
    from pyspark.sql import SparkSession

    from ticket_triage.spark.session import quiet_pandas_warning

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    quiet_pandas_warning()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("ticket-triage-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
