"""Apache Spark: batch scoring and distributed training for data that outgrows one machine.

An optional extra (``pip install 'ticket-triage[spark]'``, Java 17+). Two modules, one per
direction:

    scoring.py   a Spark DataFrame -> the same decision columns as ``triage predict``, scored in
                 the executors by the exact inference core (``ticket_triage.core.Pipeline``),
                 the artifact shipped with ``SparkContext.addFile`` and verified by checksum
    training.py  ``triage train --engine spark``: our own hashing in the executors, one MLlib
                 multinomial LogisticRegression per head, then the calibration, thresholds and
                 artifact of ``--streaming`` training
    session.py   the SparkSession the CLI builds (local mode or a cluster master) and the one
                 translation of Spark's failures into a one-line error

Nothing in the inference core or serving imports this package (an import-linter contract):
pyspark is never part of the Lambda package or the API.
"""
