import datetime as dt

from taxi_flows import settings
from taxi_flows.core import source


def test_urls_follow_the_release_layout():
    base = settings.DEFAULT_BASE_URL + "/"
    assert source.trip_url(base, "yellow", dt.date(2021, 1, 1)) == (
        "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/yellow/yellow_tripdata_2021-01.csv.gz"
    )
    assert source.zones_url(base).endswith("/releases/download/misc/taxi_zone_lookup.csv")


def test_the_base_url_template_defaults_to_the_releases():
    assert settings.BASE_URL_TEMPLATE == (
        "{{ hide_secrets_of(var.value.get('taxi_source_base_url', "
        "'https://github.com/DataTalksClub/nyc-tlc-data/releases/download')) }}"
    )


def test_a_signed_base_url_keeps_its_query_at_the_end():
    base = "https://files.example/good/?token=s3cr3t&exp=1"
    assert source.trip_url(base, "green", dt.date(2020, 4, 1)) == (
        "https://files.example/good/green/green_tripdata_2020-04.csv.gz?token=s3cr3t&exp=1"
    )
    assert source.zones_url(base) == "https://files.example/good/misc/taxi_zone_lookup.csv?token=s3cr3t&exp=1"
