"""Training options: one typed, validated object, readable from a TOML or JSON file.

Every default here was chosen by measurement on ``../shared/datasets``; the README's "How the
defaults were chosen" gives the numbers and the command that produced them. A file passed with
``triage train --config FILE`` overrides any subset; an unknown key is an error, not a silent no-op.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ticket_triage.core.errors import ConfigError
from ticket_triage.core.text import TOKEN_PATTERN

__all__ = ["ReviewRule", "Target", "TrainConfig", "load_config"]


class Target(BaseModel):
    """A precision target for one class of one head (urgency ``high`` >= 0.85 by default)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    label: str = Field(alias="class", description="The class whose threshold is tuned.")
    min_precision: float = Field(0.85, gt=0.0, le=1.0)
    confidence: float = Field(
        0.9,
        ge=0.5,
        lt=1.0,
        description="One-sided confidence that precision meets the target (0.5: point estimate).",
    )


class ReviewRule(BaseModel):
    """When a decision goes to human review: a per-class precision target, or a coverage target."""

    model_config = ConfigDict(extra="forbid")

    min_precision: float | None = Field(0.8, gt=0.0, le=1.0)
    coverage: float | None = Field(None, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_rule(self) -> ReviewRule:
        if self.coverage is not None:
            self.min_precision = None
        if self.min_precision is None and self.coverage is None:
            raise ValueError("review needs min_precision or coverage")
        return self


class TrainConfig(BaseModel):
    """Everything ``triage train`` can be told; see the field descriptions."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _valid_pattern(self) -> TrainConfig:
        try:
            pattern = re.compile(self.token_pattern)
        except re.error as exc:
            raise ValueError(f"token_pattern is not a valid regex: {exc}") from exc
        if pattern.groups:
            raise ValueError("token_pattern must not have capturing groups; use (?:...)")
        if self.char_ngram_range is not None:
            low, high = self.char_ngram_range
            if not 1 <= low <= high <= 8:
                raise ValueError("char_ngram_range must satisfy 1 <= min <= max <= 8")
        return self

    seed: int = Field(0, description="Seed of the split, the folds and the solver.")
    test_size: float = Field(0.2, gt=0.0, lt=0.9, description="Share held out for the report.")
    cv_folds: int = Field(5, ge=2, le=20, description="Folds for calibration and thresholds.")
    metadata: list[str] | None = Field(
        None, description="Metadata columns to use; default: product, plan, region, channel."
    )
    n_features: int = Field(2**20, ge=2**10, le=2**24)
    ngram_max: int = Field(2, ge=1, le=3)
    sublinear_tf: bool = True
    use_idf: bool = True
    tokenizer: Literal["regex", "spacy"] = "regex"
    token_pattern: str = Field(
        TOKEN_PATTERN, description="Regex for tokens (no capturing group); default keeps !!!."
    )
    char_ngram_range: tuple[int, int] | None = Field(
        (2, 5),
        description="char_wb n-grams (code points inside a space-padded word) as a second "
        "block of features; null: word n-grams only.",
    )
    char_n_features: int = Field(2**19, ge=2**10, le=2**24, description="Width of the char block.")
    char_weight: float = Field(
        0.7, gt=0.0, le=10.0, description="Weight of the char block (the word block's is 1)."
    )
    char_max_words: int | None = Field(
        128,
        ge=1,
        description="Char n-grams of the first this many words only; null: every word.",
    )
    subject_weight: float | None = Field(
        0.5,
        gt=0.0,
        le=10.0,
        description="Weight of a block of the subject's own word n-grams; null: no such block.",
    )
    subject_n_features: int = Field(
        2**18, ge=2**10, le=2**24, description="Width of the subject block."
    )
    C: float = Field(1.0, gt=0.0, description="Inverse regularisation of the LinearSVC heads.")
    nb_scaling: bool = Field(
        True,
        description="Fit each class's LinearSVC on features scaled by their naive-Bayes "
        "log-count ratio (NBSVM); in memory only, streaming fits plain SGD.",
    )
    calibration: Literal["temperature", "sigmoid"] = "temperature"
    targets: dict[str, Target] = Field(
        default_factory=lambda: {"urgency": Target(label="high", min_precision=0.85)},
        description="Per head, a class whose threshold meets a precision target.",
    )
    review: ReviewRule = Field(default_factory=ReviewRule)
    min_support: int = Field(10, ge=1, description="Fewest predictions a threshold may rest on.")
    resample: bool = Field(False, description="Oversample minority classes to the largest one.")
    augment: bool = Field(False, description="Add perturbed copies of minority-class tickets.")
    streaming: bool = Field(
        False,
        description="Train out of core (chunked reading, SGD): bounded memory for huge files.",
    )
    epochs: int = Field(5, ge=1, le=100, description="Streaming only: passes of SGD over the data.")
    calibration_share: float = Field(
        0.1,
        gt=0.0,
        lt=0.5,
        description="Streaming only: share of rows kept for the calibrator and the thresholds.",
    )
    chunk_rows: int = Field(50_000, ge=100, description="Streaming only: rows read at a time.")
    max_iter: int = Field(
        300,
        ge=1,
        le=1000,
        description="--engine spark only: most L-BFGS iterations per head (a Spark job each).",
    )

    @model_validator(mode="after")
    def _streaming_options(self) -> TrainConfig:
        if self.streaming and (self.resample or self.augment or self.tokenizer == "spacy"):
            raise ValueError("streaming supports neither resample, augment nor tokenizer 'spacy'")
        if self.test_size + self.calibration_share >= 0.9:
            raise ValueError("test_size + calibration_share must leave rows to train on")
        return self


def load_config(path: Path | None, **overrides: object) -> TrainConfig:
    """Read a TOML or JSON config (or none) and apply command-line overrides on top.

    Raises
    ------
    ConfigError
        The file is missing, unparsable, or has an unknown key or a value out of range; the
        message names the key.
    """
    data: dict[str, object] = {}
    if path is not None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from exc
        try:
            data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}"
            ) from exc
    data.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "config"
        prefix = f"{path}: " if path is not None else "option "
        raise ConfigError(f"{prefix}{where}: {first['msg']}") from exc
