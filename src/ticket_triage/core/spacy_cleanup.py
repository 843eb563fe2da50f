"""Optional spaCy tokenizer-only cleanup (the ``spacy`` extra; never in the Lambda package).

spaCy's rule-based tokenizer knows things a regex does not: it splits clitics ("don't" -> "do
n't") and flags tokens that look like URLs or e-mail addresses. We use a blank multi-language
pipeline (tokenizer only: no model download, no tagger) to drop URL and e-mail tokens the URL
regex missed, keep runs like ``!!!`` whole (spaCy splits them), and hand the space-joined tokens to
the usual regex tokenizer.

It is off by default: on ``../shared/datasets`` it did not beat the regex path (README, "How the
defaults were chosen"), and it costs about 40 MB and ~0.5 s of import.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import spacy

from ticket_triage.core.text import SUBJECT_MARK

__all__ = ["spacy_clean"]


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    return spacy.blank("xx").tokenizer


def spacy_clean(text: str) -> str:
    """Tokenize with spaCy, drop URL/e-mail-like tokens, keep ``!``/``?`` runs together.

    A marked subject (:data:`~ticket_triage.core.text.SUBJECT_MARK`) is cleaned apart from the
    rest and stays marked: spaCy would take the mark for white space and drop it.

    Examples
    --------
    >>> spacy_clean("mail me at jane@acme.com, it's urgent!!!")
    "mail me at , it 's urgent !!!"
    """
    return SUBJECT_MARK.join(map(_clean, text.split(SUBJECT_MARK)))


def _clean(text: str) -> str:
    kept: list[str] = []
    glued = False  # the previous kept token was "!"/"?" with no space after it
    for token in _tokenizer()(text):
        if token.like_url or token.like_email or token.is_space:
            glued = False
            continue
        if glued and token.text in _MARKS:
            kept[-1] += token.text
        else:
            kept.append(token.text)
        glued = kept[-1].strip("!?") == "" and not token.whitespace_
    return " ".join(kept)


_MARKS = frozenset("!?")
