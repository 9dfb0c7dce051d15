import shutil
from pathlib import Path

import numpy as np
import pytest

from scheduler.core.errors import DatasetError
from scheduler.data.datasets import load_datasets
from scheduler.settings import ROOT

DATA = ROOT / "dataset_rl"


def test_reference_files_load(datasets):
    assert datasets.servers.ids.tolist() == list(range(1, 10))
    assert len(datasets.plan_cpu) == len(datasets.price) == 2000
    assert len(datasets.steel_usage_kwh) == 35040
    assert np.isfinite(datasets.steel_co2_t).all()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in ("Server_L.xlsx", "price.csv", "task_15min_L.csv", "steel_industry_data.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def test_missing_directory():
    with pytest.raises(DatasetError, match="does not exist"):
        load_datasets(Path("/nonexistent/taskpilot"))


@pytest.mark.parametrize("name", ["Server_L.xlsx", "price.csv", "task_15min_L.csv", "steel_industry_data.csv"])
def test_missing_file_is_named(data_copy, name):
    (data_copy / name).unlink()
    with pytest.raises(DatasetError, match=f"{name}: file not found"):
        load_datasets(data_copy)


def test_non_numeric_cell_names_file_column_and_row(data_copy):
    path = data_copy / "price.csv"
    lines = path.read_text().splitlines()
    lines[5] = "oops," + lines[5].split(",")[1]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"price.csv: column 'price_1' has a missing or non-numeric value at row \[6\]"):
        load_datasets(data_copy)


def test_missing_column_is_named(data_copy):
    (data_copy / "task_15min_L.csv").write_text("plan_cpu_i,task_type\n1,batch\n")
    with pytest.raises(DatasetError, match="task_15min_L.csv: missing column.*plan_mem_int"):
        load_datasets(data_copy)


def test_unreadable_workbook(data_copy):
    (data_copy / "Server_L.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(DatasetError, match="Server_L.xlsx: cannot be read"):
        load_datasets(data_copy)


def test_xlsx_reader_agrees_with_openpyxl():
    openpyxl = pytest.importorskip("openpyxl")
    from scheduler.data.datasets import _xlsx_rows

    sheet = openpyxl.load_workbook(DATA / "Server_L.xlsx", read_only=True, data_only=True).active
    expected = [list(row) for row in sheet.iter_rows(values_only=True)]
    got = _xlsx_rows(DATA / "Server_L.xlsx")
    assert got[0] == expected[0]
    assert [[float(c) for c in row] for row in got[1:]] == [[float(c) for c in row] for row in expected[1:]]


def test_xlsx_with_strings_and_gaps(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from scheduler.data.datasets import _xlsx_rows

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "name", "CPU", "note"])
    sheet.append([1, "alpha", 4.5])
    sheet.append([2, None, 8, "x"])
    book.save(tmp_path / "t.xlsx")
    assert _xlsx_rows(tmp_path / "t.xlsx") == [["ID", "name", "CPU", "note"], ["1", "alpha", "4.5", ""], ["2", "", "8", "x"]]


def test_cache_is_used_and_keyed_by_content(data_copy, tmp_path):
    cache = tmp_path / "cache"
    first = load_datasets(data_copy, cache)
    assert len(list(cache.glob("*.npz"))) == 4
    again = load_datasets(data_copy, cache)
    np.testing.assert_array_equal(first.steel_co2_t, again.steel_co2_t)
    assert again.steel_load_type.tolist() == first.steel_load_type.tolist()
    path = data_copy / "price.csv"
    path.write_text(path.read_text().replace("74.67", "75.67", 1))
    changed = load_datasets(data_copy, cache)
    assert changed.price[0] == 75.67 and len(list(cache.glob("price-*.npz"))) == 2


def test_damaged_cache_is_ignored(data_copy, tmp_path):
    cache = tmp_path / "cache"
    load_datasets(data_copy, cache)
    for f in cache.glob("*.npz"):
        f.write_bytes(b"garbage")
    assert len(load_datasets(data_copy, cache).price) == 2000
