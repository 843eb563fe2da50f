"""Generate the project's own synthetic support tickets, deterministically, for the demo model.

Everything this module produces is **synthetic**: no real customer wrote any of it. The committed
file ``sample/tickets.csv`` is the output of :func:`write_sample_csv` with its defaults, and a
test regenerates it byte for byte, so the file and this code cannot drift apart.

Why it exists: the demo model (``triage train`` on a fresh checkout, the examples, the API smoke
tests) needs labelled tickets that ship with the package and carry a clear licence. Synthetic data
is fine for that, but it says nothing about real quality: quality is measured and reported on the
public data in ``../shared/datasets``, never on this file.

How it is made (standard library only, so one seed gives the same bytes on every platform):

1. Draw the labels and metadata first, from skewed distributions that look like a help desk: topic
   bug ~40 %, billing ~25 %, feature_request ~25 %, account ~10 %; urgency high ~12 %,
   normal ~58 %, low ~30 %. Urgency depends on the topic (feature requests are almost never high,
   bugs and failed payments more often) and a little on the plan (enterprise escalates more, free
   less). The product follows the topic (billing tickets are mostly ``product=billing``) but not
   always; region follows the language.
2. Write the text from hand-written English and German templates (German ~20 %, written as German,
   not translated by code): a subject, a greeting, an opener, one or two problem sentences for the
   topic, generic sentences that every topic shares ("I tried logging out and in again", "Thanks for
   your help"), cues for the urgency ("production is down", "ASAP", "!!!", "dringend"; "no rush",
   "just curious"), and sometimes an error code (``402``, ``E1234``, ``0x80070005``, ``HTTP 500``,
   ``ERR_CONNECTION_RESET``), a URL, an e-mail signature with a phone number. ``[a|b]`` in a
   template picks one alternative and ``{slot}`` draws a filler, which multiplies the wording.
   The templates and fillers themselves are pure data in :mod:`ticket_triage.sample.templates`.
3. Make it hard on purpose, so a linear model scores well but not perfectly: cues leak into the
   wrong urgency now and then, many high tickets carry no cue, some tickets are vague or sit between
   two topics (a bug on the invoice page, a login problem that blocks a card update), and ~10 % get
   typos (a swapped or dropped letter).
4. **Label noise:** about 4 % of rows (:data:`LABEL_NOISE`) then get one label flipped at random,
   either urgency or topic, to another value of the same head. The text is not changed, so these
   rows are wrong on purpose, like the mistakes human agents make; no model should score 1.0.

With the defaults, TF-IDF 1-2-grams + ``LinearSVC(class_weight="balanced")`` on subject and body
reach about 0.85-0.89 macro-F1 on topic and 0.65-0.68 on urgency (stratified 80/20 splits): easy
enough for a convincing demo, hard enough that thresholds and abstention have work to do.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from random import Random

from ticket_triage.sample.slots import Slots, render
from ticket_triage.sample.templates import (
    AMBIGUOUS,
    CHANNELS,
    CLOSERS,
    CODE_SENTENCES,
    COLUMNS,
    GENERIC,
    GREETINGS,
    HIGH_CUES,
    HIGH_SUBJECT,
    LOW_CUES,
    LOW_SUBJECT,
    NORMAL_CUES,
    OPENERS,
    PLANS,
    PROBLEMS,
    PRODUCTS,
    REGIONS,
    SIGN_OFFS,
    SUBJECTS,
    TOPICS,
    URGENCIES,
    URL_SENTENCES,
    VAGUE,
    VAGUE_SUBJECTS,
)

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "LABEL_NOISE",
    "PLANS",
    "PRODUCTS",
    "REGIONS",
    "TOPICS",
    "URGENCIES",
    "generate_tickets",
    "write_sample_csv",
]


#: Share of rows whose urgency or topic label is flipped at random after the text is written.
LABEL_NOISE = 0.04
_GERMAN_SHARE = 0.20
_TYPO_SHARE = 0.10
# Shares of tickets that are vague, worded like a neighbouring topic, or mention both topics.
_VAGUE_SHARE = 0.09
_CROSS_SHARE = 0.18
_MIXED_SHARE = 0.15

_TOPIC_WEIGHTS = {"bug": 0.40, "billing": 0.25, "feature_request": 0.25, "account": 0.10}
# P(high) and P(low) per topic before the plan adjusts P(high); normal takes the rest.
_URGENCY_BASE = {
    "bug": (0.16, 0.22),
    "billing": (0.14, 0.26),
    "feature_request": (0.01, 0.55),
    "account": (0.12, 0.24),
}
_PLAN_WEIGHTS = {"free": 0.35, "pro": 0.30, "business": 0.20, "enterprise": 0.15}
# Multiplies P(high); weighted by _PLAN_WEIGHTS it averages about 1, so the overall share holds.
_PLAN_ESCALATION = {"free": 0.55, "pro": 0.9, "business": 1.2, "enterprise": 1.9}
_PRODUCT_WEIGHTS = {
    "billing": (0.72, 0.12, 0.06, 0.04, 0.06),
    "bug": (0.07, 0.36, 0.26, 0.19, 0.12),
    "feature_request": (0.06, 0.34, 0.22, 0.16, 0.22),
    "account": (0.10, 0.52, 0.26, 0.06, 0.06),
}
_REGION_WEIGHTS = {"de": (0.92, 0.04, 0.04), "en": (0.33, 0.42, 0.25)}
_CHANNEL_WEIGHTS = {"high": (0.40, 0.25, 0.35), "other": (0.50, 0.32, 0.18)}
_SIGNATURE_SHARE = {"email": 0.6, "web": 0.2, "chat": 0.05}
_CODE_SHARE = {"bug": 0.5, "billing": 0.3, "account": 0.3, "feature_request": 0.04}
_URL_SHARE = 0.13


def _pick(rng: Random, weights: Mapping[str, float]) -> str:
    """Draw a key by weight; the mapping's order is fixed, so the draw is reproducible."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


def _pick_from(rng: Random, values: Sequence[str], weights: Sequence[float]) -> str:
    """Draw one of ``values`` with the matching weight (weights need not sum to 1)."""
    return rng.choices(list(values), weights=list(weights))[0]


def _urgency(rng: Random, topic: str, plan: str) -> str:
    """Draw urgency from the topic's base rates, with P(high) scaled by how the plan escalates."""
    base_high, base_low = _URGENCY_BASE[topic]
    high = min(base_high * _PLAN_ESCALATION[plan], 0.9)
    scale = (1.0 - high) / (1.0 - base_high)
    return _pick_from(
        rng, URGENCIES, (high, (1.0 - base_high - base_low) * scale, base_low * scale)
    )


def _typos(text: str, rng: Random) -> str:
    """Swap or drop one letter in one to three plain words, as hurried typing does.

    Only letters-only words of four or more characters are touched, so URLs, error codes, names
    with digits and the signature's line breaks stay intact.
    """
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    for _ in range(rng.randint(1, 3)):
        if not candidates:
            break
        index = rng.choice(candidates)
        word = words[index]
        at = rng.randrange(len(word) - 1)
        if rng.random() < 0.5:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        else:
            word = word[:at] + word[at + 1 :]
        words[index] = word
    return " ".join(words)


def _framing(rng: Random, lang: str, topic: str) -> tuple[str | None, tuple[str, str] | None]:
    """Decide whose words the ticket uses: its own topic's, a neighbour's, or nobody's.

    Returns the topic whose subject and opener templates to use (``None``: a vague ticket) and the
    pair of topics whose shared sentence goes in (``None``: none). Most tickets use their own
    topic. A cross-over ticket is worded like the neighbouring topic and carries a sentence that
    fits both ("the invoice page crashes" filed as billing), as customers do when they cannot tell
    a bug from a billing problem; that is what keeps topic accuracy honest.
    """
    roll = rng.random()
    if roll < _VAGUE_SHARE:
        return None, None
    pairs = [pair for pair in AMBIGUOUS[lang] if topic in pair]
    if roll < _VAGUE_SHARE + _CROSS_SHARE:
        pair = rng.choice(pairs)
        return (pair[0] if pair[1] == topic else pair[1]), pair
    return topic, (rng.choice(pairs) if rng.random() < _MIXED_SHARE else None)


def _problem_sentences(
    rng: Random,
    lang: str,
    topic: str,
    framing: tuple[str | None, tuple[str, str] | None],
    slots: Slots,
) -> list[str]:
    """One to three sentences about the problem, following :func:`_framing`."""
    frame, pair = framing
    if frame is None:
        templates = [rng.choice(VAGUE[lang])]
    elif frame != topic and pair is not None:
        templates = [rng.choice(AMBIGUOUS[lang][pair])]
        if rng.random() < 0.3:
            templates.append(rng.choice(PROBLEMS[lang][topic]))
    else:
        templates = [rng.choice(PROBLEMS[lang][topic])]
        if rng.random() < 0.35:
            templates.append(rng.choice(PROBLEMS[lang][topic]))
        if pair is not None:
            templates.insert(rng.randint(0, len(templates)), rng.choice(AMBIGUOUS[lang][pair]))
    return [render(template, rng, slots) for template in dict.fromkeys(templates)]


def _urgency_sentences(rng: Random, lang: str, topic: str, urgency: str, slots: Slots) -> list[str]:
    """Cues for the urgency; present often but not always, and sometimes on the wrong level."""
    cues: list[str] = []
    if urgency == "high":
        if rng.random() < 0.72:
            pool = HIGH_CUES[lang][topic] if rng.random() < 0.6 else HIGH_CUES[lang]["any"]
            cues.append(rng.choice(pool))
    elif urgency == "low":
        if rng.random() < 0.6:
            cues.append(rng.choice(LOW_CUES[lang]))
    else:
        roll = rng.random()
        if roll < 0.04:
            cues.append(rng.choice(HIGH_CUES[lang]["any"]))
        elif roll < 0.09:
            cues.append(rng.choice(LOW_CUES[lang]))
        elif roll < 0.25:
            cues.append(rng.choice(NORMAL_CUES[lang]))
    return [render(cue, rng, slots) for cue in cues]


def _subject(rng: Random, lang: str, frame: str | None, urgency: str, slots: Slots) -> str:
    """A subject from the framing topic's templates (or a vague one), sometimes marked urgent."""
    if frame is None or rng.random() < 0.18:
        subject = render(rng.choice(VAGUE_SUBJECTS[lang]), rng, slots)
    else:
        subject = render(rng.choice(SUBJECTS[lang][frame]), rng, slots)
    roll = rng.random()
    if (urgency == "high" and roll < 0.35) or (urgency == "normal" and roll < 0.02):
        prefix, suffix = rng.choice(HIGH_SUBJECT[lang])
        subject = f"{prefix}{subject}{suffix}"
    elif urgency == "low" and roll < 0.12:
        subject += rng.choice(LOW_SUBJECT[lang])
    return subject


def _signature(rng: Random, lang: str, slots: Slots) -> str:
    """An e-mail signature: sign-off, name, often company and phone, or a mobile footer."""
    if rng.random() < 0.08:
        return "Sent from my iPhone" if lang == "en" else "Von meinem iPhone gesendet"
    lines = [rng.choice(SIGN_OFFS[lang]), f"{slots('first')} {slots('last')}"]
    if rng.random() < 0.7:
        lines.append(slots("company"))
    if rng.random() < 0.45:
        lines.append(f"{'Tel.' if lang == 'de' else 'Phone:'} {slots('phone')}")
    return "\n".join(lines)


def _ticket(rng: Random) -> dict[str, str]:
    """One ticket: labels and metadata first, then text written to fit them."""
    lang = "de" if rng.random() < _GERMAN_SHARE else "en"
    topic = _pick(rng, _TOPIC_WEIGHTS)
    plan = _pick(rng, _PLAN_WEIGHTS)
    urgency = _urgency(rng, topic, plan)
    product = _pick_from(rng, PRODUCTS, _PRODUCT_WEIGHTS[topic])
    region = _pick_from(rng, REGIONS, _REGION_WEIGHTS[lang])
    channel = _pick_from(rng, CHANNELS, _CHANNEL_WEIGHTS["high" if urgency == "high" else "other"])
    slots = Slots(rng, lang, topic, region, plan)

    framing = _framing(rng, lang, topic)
    frame = framing[0]
    subject = _subject(rng, lang, frame, urgency, slots)
    sentences = []
    if frame is not None and rng.random() < 0.8:
        sentences.append(render(rng.choice(OPENERS[lang][frame]), rng, slots))
    sentences += _problem_sentences(rng, lang, topic, framing, slots)
    if rng.random() < _CODE_SHARE[frame or topic]:
        sentences.append(render(rng.choice(CODE_SENTENCES[lang]), rng, slots))
    generic = rng.sample(GENERIC[lang], k=rng.choice((0, 1, 1, 2, 2, 3)))
    sentences += [render(template, rng, slots) for template in generic]
    sentences += _urgency_sentences(rng, lang, topic, urgency, slots)
    if rng.random() < _URL_SHARE:
        sentences.append(render(rng.choice(URL_SENTENCES[lang]), rng, slots))
    if rng.random() < 0.75:
        sentences.append(rng.choice(CLOSERS[lang]))

    body = " ".join(sentences)
    # German tickets always open with a greeting: the German openers continue it in lower case.
    greeting = rng.choice(GREETINGS[lang]) if lang == "de" or rng.random() < 0.6 else ""
    if greeting:
        body = f"{greeting}\n\n{body}"
    if rng.random() < _TYPO_SHARE:
        body = _typos(body, rng)
    if rng.random() < _SIGNATURE_SHARE[channel]:
        body = f"{body}\n\n{_signature(rng, lang, slots)}"

    return {
        "subject": subject,
        "body": body,
        "product": product,
        "plan": plan,
        "region": region,
        "channel": channel,
        "urgency": urgency,
        "topic": topic,
    }


def _flip_label(row: dict[str, str], rng: Random) -> None:
    """Replace the urgency or the topic with another value of the same head (label noise)."""
    head, labels = ("urgency", URGENCIES) if rng.random() < 0.5 else ("topic", TOPICS)
    row[head] = rng.choice([label for label in labels if label != row[head]])


def generate_tickets(n: int = 3600, seed: int = 7) -> list[dict[str, str]]:
    """Generate ``n`` synthetic, labelled support tickets; the same seed gives the same tickets.

    Parameters
    ----------
    n : int, default=3600
        Number of tickets. The default gives enough rows per class (account is the rarest at ~10 %)
        for a stratified split with a useful held-out set.
    seed : int, default=7
        Seed of the :class:`random.Random` that drives every choice. The committed sample file is
        made with the default, so changing it means regenerating that file.

    Returns
    -------
    list of dict
        One dict per ticket with the keys in :data:`COLUMNS`, every value a string.

    Raises
    ------
    ValueError
        If ``n`` is negative.

    Examples
    --------
    >>> rows = generate_tickets(5, seed=1)
    >>> len(rows), tuple(rows[0]) == COLUMNS
    (5, True)
    >>> rows == generate_tickets(5, seed=1)
    True
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = Random(seed)  # reproducible sample data, not security
    rows = []
    for _ in range(n):
        row = _ticket(rng)
        if rng.random() < LABEL_NOISE:
            _flip_label(row, rng)
        rows.append(row)
    return rows


def write_sample_csv(path: Path, n: int = 3600, seed: int = 7) -> None:
    """Write :func:`generate_tickets` to ``path`` as UTF-8 CSV that is identical on every run.

    Rows end in ``\\n`` on every platform (``newline=""`` plus a fixed line terminator), fields are
    quoted only when needed, and there is no BOM, so the same arguments always give the same bytes
    and a test can compare hashes. The parent folder must exist.

    Parameters
    ----------
    path : Path
        Where to write; an existing file is replaced.
    n, seed : int
        Passed to :func:`generate_tickets`.
    """
    rows = generate_tickets(n, seed)
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
