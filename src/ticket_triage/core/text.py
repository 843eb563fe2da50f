"""Turn a ticket's fields into one normalised string, keeping the tokens that carry signal.

The first step of the data path (text -> features -> heads -> decision -> route). Training and
inference call the same two functions, so a ticket is featurised identically in both.

Why not the usual "strip punctuation" cleanup: urgency lives in things like ``!!!``, ``?!``, error
codes (``402``, ``E1234``, ``0x80070005``) and short phrases ("payment failed"). We lower-case, drop
URLs and control characters and collapse white space, but keep punctuation runs so that
:data:`TOKEN_PATTERN` can turn them into tokens. Nothing here is language specific: ``\\w`` in
Python regexes is Unicode-aware, so German, accented and non-Latin text tokenises as words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

try:  # clean_text of text below U+0100 in C (_featurize.c); clean_python is the reference
    from ticket_triage.core._featurize import clean_latin1 as _clean_latin1
except ImportError:  # pragma: no cover - installed where no C compiler was available
    _clean_latin1 = None

__all__ = [
    "SUBJECT_MARK",
    "TOKEN_PATTERN",
    "clean_python",
    "clean_text",
    "combine_fields",
    "join_fields",
    "metadata_tokens",
    "subject_of",
    "tokenize",
]

#: Tokens: words and numbers of any length (``402``, ``e1234``, ``0x80070005``, ``ä``), optionally
#: followed by ``:value`` (metadata tokens such as ``plan:pro``), runs of ``!``/``?`` (``!!!``,
#: ``?!``), and emoji. It has no capturing group, so scikit-learn's ``token_pattern`` and
#: :func:`re.findall` agree. Possessive quantifiers and ``\w++(?::...)?`` rather than
#: ``\w+:...|\w+`` scan each word once: tokenizing is the largest cost of scoring a ticket.
TOKEN_PATTERN = r"(?u)\w++(?::[\w.\-]++)?|[!?]{2,}|[\U0001F300-\U0001FAFF\u2600-\u27BF]"  # noqa: S105 (not a secret)
_TOKEN_RE = re.compile(TOKEN_PATTERN)

#: Ends the subject in a combined text built with ``mark_subject=True``, for a model with a
#: subject block (:class:`~ticket_triage.core.features.FeatureConfig`). U+001F (unit separator):
#: :func:`clean_text` removes it from any input, no token pattern matches it, and ``str.split``
#: takes it for white space, so the word and char n-grams of a marked text are those of the
#: unmarked one.
SUBJECT_MARK = "\x1f"

# Help-desk exports often carry newlines as the two characters "\n"; they are white space.
_ESCAPED_WHITESPACE = re.compile(r"\\[nrt]")
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.\-]*://|\bwww\.)\S+")  # applied to lower-cased text
# Control characters (NUL, escape, ...) other than ordinary white space, and lone surrogates
# (legal in JSON as "\ud800", not in UTF-8: they crash mmh3 outright and cannot be encoded).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NON_WORD = re.compile(r"[^\w.\-]+")
# TOKEN_PATTERN allows "." and "-" only after the colon, so a key keeps word characters only.
_NON_KEY = re.compile(r"\W+")


def clean_text(text: str) -> str:
    """Normalise free text: lower-case, no URLs, no control characters, single spaces.

    Parameters
    ----------
    text : str
        Raw subject or body.

    Returns
    -------
    str
        The cleaned text. Applying the function twice gives the same result as once.

    Examples
    --------
    >>> clean_text(" Hello!!! Visit https://acme.com NOW  ")
    'hello!!! visit now'
    >>> clean_text("Zahlung fehlgeschlagen: Fehler 0x80070005?!")
    'zahlung fehlgeschlagen: fehler 0x80070005?!'
    """
    # Most English and Western European text is below U+0100 (curly quotes, dashes and the euro
    # sign are not): then clean_python's steps in one C call, about 7x faster than its regex
    # scans (the same result, tested); anything else goes through Python.
    cleaned = _clean_latin1(text) if _clean_latin1 is not None else None
    return clean_python(text) if cleaned is None else cleaned


def clean_python(text: str) -> str:
    """:func:`clean_text` in Python, for any text: the reference the compiled path (text below
    U+0100) is tested against, and the path for all other text."""
    # NFKC folds compatibility forms (full-width digits, ligatures) into their plain spelling.
    text = unicodedata.normalize("NFKC", text.lower()).lower()
    # Rarely NFKC yields an upper-case letter (the Fraktur H becomes "H") whose lower-case form
    # composes with a following combining mark ("h" + U+0331 is U+1E96): repeat until stable so
    # that cleaning twice gives what cleaning once gave. ``is_normalized`` is a quick check.
    while not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text).lower()
    # The substring checks skip a regex scan on the (usual) ticket without escapes or URLs: this
    # function runs on every request and dominates latency when it scans needlessly.
    if "\\" in text:
        text = _ESCAPED_WHITESPACE.sub(" ", text)
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def metadata_tokens(metadata: Mapping[str, object] | None) -> list[str]:
    """Turn metadata into ``key:value`` tokens, such as ``product:billing`` or ``plan:pro``.

    Keys and values are lower-cased; in values runs of anything but word characters, ``.`` and
    ``-`` become ``_``, in keys runs of anything but word characters do (``app.version`` becomes
    ``app_version``), so that each pair stays one token. Empty values are skipped: "unknown" is
    not a feature. Keys are sorted so the output does not depend on the mapping's order.

    Examples
    --------
    >>> metadata_tokens({"Plan": "Enterprise Plus", "product": "Billing", "region": ""})
    ['plan:enterprise_plus', 'product:billing']
    """
    if not metadata:
        return []
    tokens = []
    for key in sorted(metadata, key=str):
        value = metadata[key]
        if value is None:
            continue
        name = _slug(str(key), _NON_KEY)
        slug = _slug(str(value), _NON_WORD)
        if name and slug:
            tokens.append(f"{name}:{slug}")
    return tokens


@lru_cache(maxsize=4096)
def _slug(value: str, outside: re.Pattern[str]) -> str:
    # Cached: metadata keys and values repeat (a few products, plans, regions), and cleaning them
    # again for every ticket was a tenth of batch scoring's time. Bounded, so unique values from
    # hostile input only cycle the cache.
    return outside.sub("_", clean_text(value)).strip("_")


def combine_fields(
    subject: str | None,
    body: str | None,
    metadata: Mapping[str, object] | None = None,
    *,
    mark_subject: bool = False,
) -> str:
    r"""Join a ticket's subject, body and metadata into the one string every head reads.

    Parameters
    ----------
    subject, body : str or None
        The ticket's text fields; ``None`` counts as empty.
    metadata : mapping, optional
        Extra fields such as product, plan or region, appended as ``key:value`` tokens.
    mark_subject : bool, default=False
        End the subject with :data:`SUBJECT_MARK` instead of a space, so that a model with a
        subject block can find it (:func:`subject_of`); the n-grams of the rest are unchanged.

    Returns
    -------
    str
        ``clean_text(subject) clean_text(body) key:value ...``, with empty parts left out.

    Examples
    --------
    >>> combine_fields("PayMent Failed", "error code 402     please help",
    ...                {"product": "Billing", "plan": "Pro"})
    'payment failed error code 402 please help plan:pro product:billing'
    >>> combine_fields("PayMent Failed", "error 402", mark_subject=True)
    'payment failed\x1ferror 402'
    """
    tokens = " ".join(metadata_tokens(metadata))
    return join_fields(subject, body, tokens, mark_subject=mark_subject)


def join_fields(subject: str | None, body: str | None, tokens: str, *, mark_subject: bool) -> str:
    """:func:`combine_fields` with the metadata tokens already joined by spaces: batch scoring
    makes them once per distinct metadata (a few products, plans and regions) instead of once
    per ticket, and :func:`combine_fields` itself is this, so the two cannot drift apart.

    Examples
    --------
    >>> join_fields("PayMent Failed", "error 402", "plan:pro", mark_subject=False)
    'payment failed error 402 plan:pro'
    """
    if mark_subject:
        # Cleaning each field alone equals cleaning them joined by a newline (below).
        text = f"{clean_text(subject or '')}{SUBJECT_MARK}{clean_text(body or '')}"
    else:
        # One cleaning pass over both fields: the newline keeps URL and escape patterns from
        # joining across them, and white space is collapsed anyway, so this equals cleaning each
        # separately.
        text = clean_text(f"{subject or ''}\n{body or ''}")
    return f"{text} {tokens}".strip() if tokens else text


def subject_of(text: str) -> str:
    """The subject part of a combined text made with ``mark_subject=True`` ("" without a mark).

    Examples
    --------
    >>> subject_of(combine_fields("Payment failed", "error 402", mark_subject=True))
    'payment failed'
    >>> subject_of("payment failed error 402")
    ''
    """
    subject, mark, _ = text.partition(SUBJECT_MARK)
    return subject if mark else ""


def tokenize(text: str) -> list[str]:
    """Split cleaned text into tokens with :data:`TOKEN_PATTERN`.

    Examples
    --------
    >>> tokenize("payment failed!!! error e1234 plan:pro")
    ['payment', 'failed', '!!!', 'error', 'e1234', 'plan:pro']
    """
    return _TOKEN_RE.findall(text)
