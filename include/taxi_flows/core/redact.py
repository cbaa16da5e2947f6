"""Secrets out of what people read: the userinfo (``user:password@``) and the secret query
parameters (``?token=…``, ``&password=…``, ``sig=…``) of every URL in a text are replaced by ***.

Messages, logs and failure alerts name URLs (the source file, a webhook) through redact(); the
tasks also hand the secret parts to Airflow's secret masker (orchestration.compat.mask_secret), so
that Airflow's own log lines and tracebacks hide them too.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][\w+.-]*://)[^\s/?#]*@")
_SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "signature", "sig", "credential", "auth")
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;][\w.-]*(?:" + "|".join(_SECRET_WORDS) + r")[\w.-]*=)[^&;#\s'\"]*", re.IGNORECASE
)


def redact(text: str) -> str:
    """text with every URL's userinfo and secret query values replaced by ***."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['name']}{MASK}", text)


def secrets_of(url: str) -> list[str]:
    """The secret parts of a URL (its userinfo's password and user, secret query values), as they
    appear in it and decoded: what a secret masker must hide."""
    found = []
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        user, _, password = userinfo.partition(":")
        found += [userinfo, password, unquote(password)] if password else [userinfo, user]
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if any(word in name.lower() for word in _SECRET_WORDS):
            found += [value]
    return [s for s in dict.fromkeys(found) if len(s) >= 3]  # too short to mask without masking everything
