"""Imports that moved between Airflow 3 releases: the bundle runs on 3.1 (Cloud Composer 3's first
Airflow 3 builds) through the 3.3 pinned locally."""

from __future__ import annotations

try:
    from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException, AirflowSkipException
except ImportError:  # Airflow 3.0 / 3.1
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
    )

__all__ = ["AirflowFailException", "AirflowNotFoundException", "AirflowSkipException"]
