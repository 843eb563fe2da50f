"""The SparkSession of the CLI commands, and Spark's failures as one-line errors.

Why the session sets ``PYSPARK_PYTHON``: in local mode Spark starts its Python workers with
``python3`` from ``PATH``, which is not the interpreter (or virtual environment) that has
ticket-triage installed; the workers must run the very code the driver runs. A cluster sets it
itself (``spark.pyspark.python`` in its configuration), and an explicit value is kept.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ticket_triage.core.errors import DataError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["quiet_pandas_warning", "spark_errors", "spark_session"]


def quiet_pandas_warning() -> None:
    """Hide pyspark's FutureWarning about pandas 3 (the lock file's version): the columns Spark
    exchanges with us are strings, numbers and booleans, which it converts correctly (tested)."""
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )


def spark_session(master: str, app_name: str = "ticket-triage") -> SparkSession:
    """The running session, or a new one on ``master`` (``local[*]``, ``spark://host:7077``,
    ``yarn``...) whose Python workers run this interpreter unless ``PYSPARK_PYTHON`` says
    otherwise."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    quiet_pandas_warning()
    with spark_errors("starting Spark"):
        session = SparkSession.builder.master(master).appName(app_name).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


#: The line of a Python worker's traceback that says what went wrong (``Module.Error: text``).
_RAISED = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Ticket|Mismatch)): (.+)$")


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Turn what Spark raises (a missing path, a failed task, no Java) into a
    :class:`~ticket_triage.core.errors.DataError` of one line: the CLI prints it, no traceback.

    A failure in an executor's Python code reaches the driver as the worker's whole traceback
    inside a Java one; the message kept is the worker's last raised exception.
    """
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raised = [match for line in lines if (match := _RAISED.match(line))]
        reason = f"{raised[-1][1]}: {raised[-1][2]}" if raised else (lines or [repr(exc)])[0]
        raise DataError(f"{what}: {reason}") from exc
