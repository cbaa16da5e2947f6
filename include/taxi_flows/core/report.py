"""The one way a step logs what it did: `<what>: <sentence>`, the sentence filled from the step's
summary dict by name (counts as `{rows:,}`), so the log line and the task's return value say the
same thing."""

from __future__ import annotations

import logging
from collections.abc import Mapping


def log_summary(log: logging.Logger, what: str, sentence: str, summary: Mapping, level: int = logging.INFO) -> None:
    """Log `what: sentence`, sentence a str.format template over the summary's keys."""
    log.log(level, "%s: %s", what, sentence.format_map(summary))
