"""The inference core: what Lambda, the HTTP service and the Spark executors import.

The data path of one ticket, a module per step::

    text.py       subject, body, metadata -> one cleaned string (signal tokens kept)
    features.py   -> hashed word, char and subject n-gram counts, computed once (+ ngrams.py,
                  their spelling and hashing; _featurize.c, the hot loop)
    heads.py      -> every linear head's scores, calibrated into probabilities
    decisions.py  -> per head a label, its confidence and needs_review (the tuned thresholds)
    routing.py    -> a queue, by declarative rules
    pipeline.py   all of the above in order: the one entry point callers use

beside them ``model.py`` (an artifact loaded and verified once, with the weights), ``artifact.py``
(the files and their checksums), ``explain.py`` (why a decision was made), ``thresholds.py`` (how
thresholds are chosen from targets, shared by training and re-tuning) and ``errors.py`` (every
exception the package raises on purpose).

The rule of this layer: the standard library, numpy and mmh3 only (spaCy for a model trained with
that tokenizer). Nothing here imports scikit-learn, scipy, pandas or matplotlib, nor another layer
of the package (training, serving, production, render, sample, cli); ``tests/architecture``
checks it.
"""
