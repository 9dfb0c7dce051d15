"""Start-up: a broken data folder stops the app with a message naming the file; HEAD /health works."""

import shutil
from pathlib import Path

import pytest

from scheduler.core.errors import DatasetError

from .conftest import ROOT, serve


def test_missing_data_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    for name in ("Server_L.xlsx", "price.csv", "task_15min_L.csv"):
        shutil.copy(ROOT / "dataset_rl" / name, tmp_path / name)
    with pytest.raises(DatasetError, match="steel_industry_data.csv: file not found"), serve(data_dir=tmp_path, cache_dir=None):
        pass


def test_malformed_data_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    for name in ("Server_L.xlsx", "task_15min_L.csv", "steel_industry_data.csv"):
        shutil.copy(ROOT / "dataset_rl" / name, tmp_path / name)
    (tmp_path / "price.csv").write_text("price_1,price_2\n1.0,2.0\nabc,3\n")
    needle = r"price.csv: column 'price_1' has a missing or non-numeric value at row \[3\]"
    with pytest.raises(DatasetError, match=needle), serve(data_dir=tmp_path, cache_dir=None):
        pass


def test_head_health() -> None:
    with serve() as client:
        response = client.head("/health")
        assert response.status_code == 200 and response.content == b""
