"""Every head's weights as one table and an index of features into it: what scoring a ticket
reads, in numpy and in C.

Built once per process from an artifact's ``weights.npz`` and ``model.json``
(:meth:`~ticket_triage.core.model.TriageModel.load`); ``_featurize.c`` reads the same table, so
its layout is a contract between the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ticket_triage.core.features import FeatureConfig
from ticket_triage.core.heads import Head

__all__ = ["Weights"]


@dataclass(frozen=True)
class Weights:
    """Every head's weights as one compact table and an index into it, built once per process.

    Per feature training saw, one row of the table: its weight for every column pre-multiplied
    by its idf and by its block's weight
    (:attr:`~ticket_triage.core.features.FeatureConfig.blocks`), then the idf itself in the last
    column. Row 0 stands for every feature no training ticket
    had: zero weights and the artifact's default idf (an unseen feature still counts in its
    block's L2 norm). ``index`` maps each hashed feature to its row, 0 for unseen ones, so
    scoring a ticket is two gathers and a ticket's unseen-feature share (input drift) is counted
    from the same index (``_featurize.c`` does the same).

    A dense table of every hashed feature's row (1.8 M x 8 float32 at the defaults, 59 MB) was
    one gather instead of two, but building it touched every page of it: 40 ms of a Lambda cold
    start in page faults alone, and scoring's gathers spread over 59 MB missed the TLB nearly
    every time. The index is 4 bytes a feature (7 MB) and the table a few MB at most.
    """

    index: np.ndarray  # int32, shape (n_features,): the row of each feature, 0 if unseen
    table: np.ndarray  # float32, shape (1 + n_seen, n_columns + 1)
    intercept: np.ndarray  # float64, shape (n_columns,)

    @classmethod
    def unpack(
        cls,
        features: FeatureConfig,
        heads: Sequence[Head],
        meta: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
    ) -> Weights:
        """The table from ``weights.npz`` (only the rows of features training saw) and
        ``model.json``.

        Raises
        ------
        KeyError, ValueError
            The arrays do not fit together or with the heads (the loader names the file).
        """
        rows = arrays["rows"].astype(np.int64)
        coef = arrays["coef"]
        intercept = arrays["intercept"].astype(np.float64)
        width = coef.shape[1]
        if coef.shape[0] != rows.shape[0] or intercept.shape != (width,):
            raise ValueError("weight arrays have inconsistent shapes")
        if rows.size and (rows.min() < 0 or rows.max() >= features.width):
            raise ValueError("feature rows outside the hashed space")
        if any(head.columns.stop > width for head in heads):
            raise ValueError("a head refers to weight columns that do not exist")
        idf = np.ones(len(rows), dtype=np.float64)
        default_idf = 1.0
        if features.use_idf:
            idf = arrays["idf"].astype(np.float64)
            default_idf = float(meta["idf_default"])
        if (idf <= 0).any() or default_idf < 0:
            raise ValueError("idf must be positive for the features training saw")
        block_weight = np.ones(len(rows))
        for block in features.blocks[1:]:
            block_weight[rows >= block.start] = block.weight
        # np.zeros maps pages lazily and the index is written at only len(rows) places.
        index = np.zeros(features.width, dtype=np.int32)
        index[rows] = np.arange(1, len(rows) + 1, dtype=np.int32)
        table = np.empty((len(rows) + 1, width + 1), dtype=np.float32)
        table[0, :width] = 0.0
        table[0, width] = default_idf
        table[1:, :width] = coef * (idf * block_weight)[:, np.newaxis]
        table[1:, width] = idf
        return cls(index, table, intercept)
