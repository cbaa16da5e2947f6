"""Every form of a secret in a URL is redacted, and handed whole to the secret masker."""

import pytest

from taxi_flows.core.redact import redact, secrets_of

FORMS = {
    "user and password": ("http://user:pw-123@files.example/releases", "http://***@files.example/releases"),
    "a password with @": ("postgresql://taxi:p@ss@10.0.0.1:5432/taxi", "postgresql://***@10.0.0.1:5432/taxi"),
    "an empty user name": ("postgresql://:s3cret@db/taxi", "postgresql://***@db/taxi"),
    "a token in the query": ("https://h/x.csv.gz?token=abc123&page=2", "https://h/x.csv.gz?token=***&page=2"),
    "a password in the query": (
        "postgresql://db/taxi?user=t&password=s3cret",
        "postgresql://db/taxi?user=t&password=***",
    ),
    "a signature": ("https://s/o?X-Goog-Signature=deadbeef", "https://s/o?X-Goog-Signature=***"),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_each_form_is_redacted_in_text(form):
    url, shown = FORMS[form]
    assert redact(f"yellow 2021-03: {url} answered 404") == f"yellow 2021-03: {shown} answered 404"


def test_text_without_secrets_is_unchanged():
    text = "green 2021-01: https://github.com/DataTalksClub/nyc-tlc-data/releases/download/green/x.csv.gz (2.1 MB)"
    assert redact(text) == text


def test_the_secret_parts_go_to_the_masker_whole_and_decoded():
    assert "p@ss" in secrets_of("postgresql://taxi:p@ss@10.0.0.1/taxi")
    assert "s3cr%t" in secrets_of("http://u:s3cr%25t@h/")
    assert secrets_of("https://h/x?token=abc123&page=2") == ["abc123"]
    assert secrets_of("https://github.com/DataTalksClub/nyc-tlc-data/releases/download") == []
