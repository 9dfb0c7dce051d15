import json

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core.errors import JobValidationError
from scheduler.core.job_batch import JobBatch, concat, to_dicts
from scheduler.core.job_csv import parse_csv, to_csv
from scheduler.core.jobs import parse_job, parse_jobs
from scheduler.settings import ROOT


def test_aliases_case_and_numeric_strings():
    batch = parse_jobs(
        [{"priority": " GREEN ", "cpu_util": "15.5", "mem": 39, "latency": "Low"}, {"priority": "performance", "cpu": 0, "memory": 100}]
    )
    assert batch.tier.tolist() == [0, 2] and batch.latency.tolist() == [0, -1]
    assert batch.cpu.tolist() == [15.5, 0.0] and batch.memory.tolist() == [39.0, 100.0]
    assert np.isnan(batch.estimated_kwh).all()


@pytest.mark.parametrize(
    ("job", "field"),
    [
        ({"cpu": 1, "memory": 1}, "priority"),
        ({"priority": "blue", "cpu": 1, "memory": 1}, "priority"),
        ({"priority": "green", "cpu": 101, "memory": 1}, "cpu"),
        ({"priority": "green", "cpu": -1, "memory": 1}, "cpu"),
        ({"priority": "green", "cpu": "NaN", "memory": 1}, "cpu"),
        ({"priority": "green", "cpu": "abc", "memory": 1}, "cpu"),
        ({"priority": "green", "cpu": 1}, "memory"),
        ({"priority": "green", "cpu": 1, "memory": 1, "latency": "fast"}, "latency"),
        ({"priority": "green", "cpu": 1, "memory": 1, "cpus": 4}, "cpus"),
        ({"priority": "green", "cpu": 1, "memory": 1, "estimated_kwh": -2}, "estimated_kwh"),
        ({"priority": 3, "cpu": 1, "memory": 1}, "priority"),
    ],
    ids=[
        "missing",
        "unknown-tier",
        "over-100",
        "negative",
        "nan",
        "text",
        "no-memory",
        "bad-latency",
        "typo-field",
        "negative-kwh",
        "int-priority",
    ],
)
def test_bad_job_names_field_and_index(job, field):
    good = {"priority": "green", "cpu": 1, "memory": 1}
    with pytest.raises(JobValidationError) as err:
        parse_jobs([good, job])
    assert {(e["index"], e["field"]) for e in err.value.errors} == {(1, field)}
    assert all(e["message"] for e in err.value.errors)


@pytest.mark.parametrize("payload", [b"{", b"{}", b"null", b'"jobs"', b"[1, 2]"], ids=["broken", "object", "null", "string", "numbers"])
def test_not_a_job_list(payload):
    with pytest.raises(JobValidationError) as err:
        parse_jobs(payload)
    assert err.value.errors


def test_single_job():
    assert parse_job({"priority": "balanced", "cpu": 1, "memory": 2}).tier.tolist() == [1]
    with pytest.raises(JobValidationError):
        parse_job([{"priority": "balanced", "cpu": 1, "memory": 2}])


def test_sample_files_parse():
    assert len(parse_csv((ROOT / "dataset_rl" / "sample_100_jobs.csv").read_bytes())) == 100
    assert len(parse_csv((ROOT / "dataset_rl" / "demo_jobs.csv").read_bytes())) == 10


def test_csv_errors_name_the_file_row():
    data = b"priority,latency,cpu,memory\ngreen,low,1,2\n\nblue,low,1,2\ngreen,slow,200,x\ngreen,low,1\n"
    with pytest.raises(JobValidationError) as err:
        parse_csv(data)
    rows = {(e["row"], e["field"]) for e in err.value.errors}
    assert rows == {(4, "priority"), (5, "latency"), (5, "cpu"), (5, "memory"), (6, None)}


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"priority,cpu\n", "memory"),
        (b"priority,cpu,memory,gpu\ngreen,1,1,1\n", "gpu"),
        (b"priority,cpu,memory\n", "no job rows"),
        (b"\xff\xfe\x00", "UTF-8"),
    ],
    ids=["empty", "missing-column", "unknown-column", "header-only", "binary"],
)
def test_csv_file_level_errors(data, needle):
    with pytest.raises(JobValidationError) as err:
        parse_csv(data)
    assert any(needle in e["message"] or needle == e["field"] for e in err.value.errors)


jobs = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(-1, 2),
        st.floats(0, 100),
        st.floats(0, 100),
        st.none() | st.floats(0, 1e6),
        st.none() | st.floats(0, 1e6),
        st.none() | st.floats(1e-3, 10_080),
        st.none() | st.floats(1e-3, 1e6),
        st.none() | st.floats(0, 1),
        st.none() | st.floats(1e-3, 1e5),
        st.integers(0, 2),
        st.booleans(),
        st.none() | st.floats(10_080, 43_200) | st.datetimes().map(lambda d: np.datetime64(d, "m")),  # minutes >= any duration_min
    ).map(lambda r: r if r[4] is None else (*r[:9], None, *r[10:])),  # estimated_kwh and power_w both fix the energy: one at most
    min_size=1,
    max_size=50,
)


@settings(max_examples=100, deadline=None)
@given(rows=jobs)
def test_csv_round_trip_keeps_every_job(rows):
    nan = float("nan")
    batch = JobBatch.of(
        tier=np.array([r[0] for r in rows], np.int8),
        latency=np.array([r[1] for r in rows], np.int8),
        cpu=np.array([r[2] for r in rows]),
        memory=np.array([r[3] for r in rows]),
        estimated_kwh=np.array([nan if r[4] is None else r[4] for r in rows]),
        co2_kg=np.array([nan if r[5] is None else r[5] for r in rows]),
        duration_min=np.array([nan if r[6] is None else r[6] for r in rows]),
        size=np.array([nan if r[7] is None else r[7] for r in rows]),
        intensity=np.array([nan if r[8] is None else r[8] for r in rows]),
        power_w=np.array([nan if r[9] is None else r[9] for r in rows]),
        urgency=np.array([r[10] for r in rows], np.int8),
        interruptible=np.array([r[11] for r in rows]),
        deadline_min=np.array([r[12] if isinstance(r[12], float) else nan for r in rows]),
        deadline_at=np.array([r[12] if isinstance(r[12], np.datetime64) else np.datetime64("NaT") for r in rows], "datetime64[m]"),
    )
    back = parse_csv(to_csv(batch).encode())
    for field in batch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(back, field), getattr(batch, field))


@pytest.mark.parametrize(
    "body",
    [b'[{"priority":"green","cpu":1,"memory":2,"size":300}]', b'[{"priority":"green","cpu":1,"memory":2,"\\u0073ize":300}]'],
    ids=["plain-key", "escaped-key"],
)
def test_optional_fields_are_read_however_the_key_is_spelled(body):
    batch = parse_jobs(body)
    assert batch.size[0] == 300.0 and np.isnan(batch.duration_min[0]) and np.isnan(batch.co2_kg[0])


def test_timing_fields_default_and_parse():
    batch = parse_jobs(
        b'[{"priority":"green","cpu":1,"memory":2},'
        b'{"priority":"green","cpu":1,"memory":2,"urgency":" Flexible ","deadline":120,"duration_min":60,'
        b'"interruptible":true,"power_w":250},'
        b'{"priority":"green","cpu":1,"memory":2,"urgency":"critical","deadline":"2023-01-01T06:00+01:00"}]'
    )
    assert batch.urgency.tolist() == [1, 2, 0]
    np.testing.assert_array_equal(batch.deadline_min, [np.nan, 120.0, np.nan])
    assert str(batch.deadline_at[2]) == "2023-01-01T05:00"  # converted to UTC
    assert batch.interruptible.tolist() == [False, True, False]
    np.testing.assert_array_equal(batch.power_w, [np.nan, 250.0, np.nan])


def test_a_deadline_before_submission_plus_duration_names_both_fields():
    with pytest.raises(JobValidationError) as err:
        parse_jobs(b'[{"priority":"green","cpu":1,"memory":2},{"priority":"green","cpu":1,"memory":2,"deadline":30,"duration_min":60}]')
    (error,) = err.value.errors
    assert error["index"] == 1 and error["field"] == "deadline"
    assert "deadline" in error["message"] and "duration_min" in error["message"]


@pytest.mark.parametrize(
    ("job", "field"),
    [
        ({"deadline": "tomorrow"}, "deadline"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": 10**6}, "deadline"),
        ({"urgency": "asap"}, "urgency"),
        ({"interruptible": "maybe"}, "interruptible"),
        ({"power_w": -5}, "power_w"),
        ({"power_w": True}, "power_w"),
    ],
)
def test_bad_timing_fields_are_named(job, field):
    with pytest.raises(JobValidationError) as err:
        parse_jobs([{"priority": "green", "cpu": 1, "memory": 2, **job}])
    assert [e["field"] for e in err.value.errors] == [field]
    if field == "urgency":
        assert "critical, normal, flexible" in err.value.errors[0]["message"]


def test_csv_deadline_cells_are_minutes_or_times():
    batch = parse_csv(b"priority,cpu,memory,urgency,deadline,interruptible\ngreen,1,1,flexible,90,yes\ngreen,1,1,,2023-03-01T00:00Z,\n")
    np.testing.assert_array_equal(batch.deadline_min, [90.0, np.nan])
    assert str(batch.deadline_at[1]) == "2023-03-01T00:00" and batch.interruptible.tolist() == [True, False]


# --- what the reference's clients send beside a job's own fields (scheduler/core/client_fields.py) ---------------


def job_with(**extra):
    return {"priority": "green", "cpu": 15, "memory": 39, **extra}


def test_a_clients_own_job_id_is_kept_per_job():
    body = b'[{"job_id":7,"priority":"green","cpu":1,"memory":2},{"priority":"green","cpu":1,"memory":2},{"job_id":"A-3","priority":"green","cpu":1,"memory":2},{"job_id":null,"priority":"green","cpu":1,"memory":2}]'  # noqa: E501
    batch = parse_jobs(body)
    assert batch.client_job_id.tolist() == [7, None, "A-3", None]
    assert parse_jobs([job_with(job_id=-(2**63)), job_with(job_id="x" * 128)]).client_job_id.tolist() == [-(2**63), "x" * 128]


def test_without_client_ids_the_batch_carries_no_id_column():
    assert parse_jobs(b'[{"priority":"green","cpu":1,"memory":2}]').client_job_id is None
    assert parse_jobs([job_with(job_id=None)]).client_job_id is None
    assert parse_csv(b"priority,cpu,memory,job_id\ngreen,1,2,\n").client_job_id is None


@pytest.mark.parametrize(
    "bad",
    [1.5, 3.0, True, "", "x" * 129, 2**63, -(2**63) - 1, [1], {"id": 1}],
    ids=["fraction", "float", "bool", "empty", "long", "big", "small", "list", "object"],
)
def test_a_bad_client_id_is_one_error_naming_job_id(bad):
    with pytest.raises(JobValidationError) as err:
        parse_jobs(json.dumps([job_with(job_id=1), job_with(job_id=bad)]).encode())  # (orjson stops at 64 bits)
    (error,) = err.value.errors
    assert (error["index"], error["field"]) == (1, "job_id")
    assert "integer or a string" in error["message"]


AGREEING = [
    ({"memory": 39, "mem": 39}, 15.0, 39.0),
    ({"memory": 39, "mem": 39.0}, 15.0, 39.0),
    ({"memory": "39", "mem": 39}, 15.0, 39.0),
    ({"memory": " 39 ", "mem": "3.9e1"}, 15.0, 39.0),
    ({"cpu": 15, "cpu_util": "15.0"}, 15.0, 39.0),
    ({"cpu": 50, "cpu_util": 50, "memory": 0, "mem": 0.0}, 50.0, 0.0),
]


@pytest.mark.parametrize(("fields", "cpu", "memory"), AGREEING)
@pytest.mark.parametrize("form", ["bytes", "list"])
def test_an_alias_beside_its_field_is_fine_when_they_agree(fields, cpu, memory, form):
    jobs = [job_with(**fields)]
    batch = parse_jobs(orjson.dumps(jobs) if form == "bytes" else jobs)
    assert (batch.cpu.tolist(), batch.memory.tolist()) == ([cpu], [memory])
    if form == "list":
        assert jobs == [job_with(**fields)]  # the caller's jobs are left as they were


@pytest.mark.parametrize(
    ("fields", "field", "alias"),
    [
        ({"memory": 39, "mem": 40}, "memory", "mem"),
        ({"memory": "39", "mem": "39.5"}, "memory", "mem"),
        ({"cpu": 15, "cpu_util": 0}, "cpu", "cpu_util"),
        ({"memory": 39, "mem": "lots"}, "memory", "mem"),
    ],
    ids=["numbers", "strings", "cpu", "alias-not-a-number"],
)
@pytest.mark.parametrize("form", ["bytes", "list"])
def test_an_alias_that_disagrees_with_its_field_names_both(fields, field, alias, form):
    jobs = [job_with(), job_with(**fields)]
    with pytest.raises(JobValidationError) as err:
        parse_jobs(orjson.dumps(jobs) if form == "bytes" else jobs)
    (error,) = err.value.errors
    assert (error["index"], error["field"]) == (1, field)
    assert f"fields {field} and {alias}" in error["message"]


def test_an_alias_far_into_the_body_is_found_too():
    """The fast path decodes at once when the first jobs show an alias; one further in is found when
    the fast validation fails, and is judged the same way."""
    jobs = [job_with(job_id=i) for i in range(200)]
    assert len(orjson.dumps(jobs[:100])) > 2048
    jobs[150] = job_with(job_id=150, mem=39)
    assert parse_jobs(orjson.dumps(jobs)).client_job_id.tolist() == list(range(200))
    jobs[150] = job_with(job_id=150, mem=38)
    with pytest.raises(JobValidationError) as err:
        parse_jobs(orjson.dumps(jobs))
    assert [(e["index"], e["field"]) for e in err.value.errors] == [(150, "memory")]


def test_alias_conflicts_are_listed_with_every_other_problem():
    jobs = [job_with(mem=1), job_with(priority="blue"), job_with(cpu=True, cpu_util=1), job_with(gpu=1, job_id=2.5)]
    with pytest.raises(JobValidationError) as err:
        parse_jobs(orjson.dumps(jobs))
    assert sorted((e["index"], e["field"]) for e in err.value.errors) == [
        (0, "memory"),
        (1, "priority"),
        (2, "cpu"),
        (3, "gpu"),
        (3, "job_id"),
    ]


def test_csv_job_id_column_and_alias_columns():
    data = (
        b"job_id,priority,latency,cpu,memory,mem\n1,green,low,15,39,39\n007,balanced,,50,50,50.0\n"
        b"A-3,performance,high,80,70,\n,green,low,1,2,2\n"
    )
    batch = parse_csv(data)
    assert batch.client_job_id.tolist() == [1, "007", "A-3", None]  # a plain integer cell is a number, other cells text
    assert batch.memory.tolist() == [39.0, 50.0, 70.0, 2.0]
    with pytest.raises(JobValidationError) as err:
        parse_csv(b"priority,cpu,cpu_util,memory,mem\ngreen,1,1,2,2\ngreen,1,1,2,3\ngreen,1,4,2,2\n")
    assert [(e["row"], e["field"]) for e in err.value.errors] == [(3, "memory"), (4, "cpu")]
    assert all("fields" in e["message"] for e in err.value.errors)


def test_take_concat_and_of_keep_client_ids():
    with_ids = parse_jobs([job_with(job_id="a"), job_with(), job_with(job_id=3)])
    plain = parse_jobs([job_with(), job_with()])
    assert with_ids.take(np.array([2, 0])).client_job_id.tolist() == [3, "a"]
    assert with_ids.take(slice(1, 2)).client_job_id.tolist() == [None]
    assert concat([plain, with_ids]).client_job_id.tolist() == [None, None, "a", None, 3]
    assert concat([plain, plain]).client_job_id is None and concat([]).client_job_id is None
    made = JobBatch.of(np.zeros(2, np.int8), np.full(2, -1, np.int8), np.ones(2), np.ones(2), client_job_id=[None, "x"])
    assert made.client_job_id.tolist() == [None, "x"]
    assert JobBatch.of(np.zeros(1, np.int8), np.full(1, -1, np.int8), np.ones(1), np.ones(1), client_job_id=[None]).client_job_id is None


def test_to_dicts_names_the_client_id_as_answers_do():
    dicts = to_dicts(parse_jobs([job_with(job_id=9), job_with()]))
    assert dicts[0]["client_job_id"] == 9 and "client_job_id" not in dicts[1]
    assert "job_id" not in dicts[0]  # job_id is TaskPilot's own in every answer


@settings(max_examples=50, deadline=None)
@given(
    ids=st.lists(
        st.none() | st.integers(-(2**63), 2**63 - 1) | st.text("ab-_ ,\"'é", min_size=1, max_size=20).map(lambda s: "id" + s),
        min_size=1,
        max_size=30,
    )
)
def test_csv_round_trip_keeps_client_ids(ids):
    batch = parse_jobs([job_with(job_id=i) for i in ids])
    back = parse_csv(to_csv(batch).encode())
    expected = None if all(i is None for i in ids) else [None if i is None else i.strip() if isinstance(i, str) else i for i in ids]
    assert (None if back.client_job_id is None else back.client_job_id.tolist()) == expected
