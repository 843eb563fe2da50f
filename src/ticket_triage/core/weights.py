"""Every head's weights as one dense table: what scoring a ticket reads, in numpy and in C.

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
    """Every head's weights as one dense table, built once per process.

    Per hashed feature, its weight for every column pre-multiplied by its idf and by its block's
    weight (:attr:`~ticket_triage.core.features.FeatureConfig.blocks`), then the idf itself in the
    last column. Scoring a ticket is then a single gather (4 bytes x width x (columns + 1): 36 MB
    per 2**20 features and 8 columns) instead of a search plus a second lookup. The idf column is
    only ever squared (for each block's L2 norm), so its sign bit is free: it is set on the
    features no training ticket had, and a ticket's unseen-feature share (input drift) is counted
    from the very rows scoring reads (``_featurize.c`` does the same).
    """

    table: np.ndarray  # float32, shape (n_features, n_columns + 1)
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
        table = np.zeros((features.width, width + 1), dtype=np.float32)
        table[:, width] = np.copysign(default_idf, -1.0)  # unseen: the sign bit set (-0.0 too)
        table[rows, :width] = coef * (idf * block_weight)[:, np.newaxis]
        table[rows, width] = idf
        return cls(table, intercept)
