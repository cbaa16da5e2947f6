import threading

import pytest
import requests

from taxi_dev.fileserver import TaxiFileServer

pytestmark = pytest.mark.depends_on()  # the dev tools' file server (its sample data: test_sample_data.py)


@pytest.fixture
def server(tmp_path):
    srv = TaxiFileServer(("127.0.0.1", 0), tmp_path, rows=100)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", tmp_path
    srv.shutdown()
    srv.server_close()


def test_release_paths_redirect_like_github(server):
    url, _ = server
    r = requests.get(f"{url}/green/green_tripdata_2020-10.csv.gz", allow_redirects=False, timeout=10)
    assert r.status_code == 302
    assert r.headers["Location"] == "/assets/green/green_tripdata_2020-10.csv.gz"
    body = requests.get(f"{url}/green/green_tripdata_2020-10.csv.gz", timeout=10)
    assert body.status_code == 200
    assert body.history[0].status_code == 302
    assert body.content[:2] == b"\x1f\x8b"
    assert int(body.headers["Content-Length"]) == len(body.content)


def test_every_month_of_the_range_exists_and_others_do_not(server):
    url, files = server
    assert requests.head(f"{url}/yellow/yellow_tripdata_2019-01.csv.gz", timeout=10).status_code == 302
    assert requests.head(f"{url}/yellow/yellow_tripdata_2021-07.csv.gz", timeout=10).status_code == 302
    assert requests.head(f"{url}/fhv/fhv_tripdata_2019-01.csv.gz", timeout=10).status_code == 302
    assert requests.head(f"{url}/fhvhv/fhvhv_tripdata_2019-02.csv.gz", timeout=10).status_code == 302
    for missing in ("yellow/yellow_tripdata_2021-08.csv.gz", "fhvhv/fhvhv_tripdata_2019-01.csv.gz", "../etc/passwd"):
        assert requests.get(f"{url}/{missing}", timeout=10).status_code == 404
    assert (files / "yellow" / "yellow_tripdata_2019-01.csv.gz").exists()


def test_files_in_the_folder_are_served_as_they_are(server):
    url, files = server
    (files / "yellow").mkdir()
    (files / "yellow" / "yellow_tripdata_2018-01.csv.gz").write_bytes(b"not what you expect")
    assert requests.get(f"{url}/yellow/yellow_tripdata_2018-01.csv.gz", timeout=10).content == b"not what you expect"
    assert requests.get(f"{url}/misc/taxi_zone_lookup.csv", timeout=10).text.startswith('"LocationID"')
