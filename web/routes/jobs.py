"""Job endpoints: submit, upload, run, reset, history, one job and its explanation."""

from collections.abc import Iterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, File, HTTPException, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from scheduler.core.errors import JobValidationError
from scheduler.core.job_batch import JobBatch, to_dicts
from scheduler.core.job_csv import CSV_COLUMNS, parse_csv_rows
from scheduler.core.jobs import JOB_SCHEMA, parse_job, parse_jobs
from scheduler.placement.engine import BatchRecord, World
from scheduler.service import decisions
from scheduler.service.facts import decision_facts
from scheduler.service.sessions import Session, SessionStore
from web.deps import LLMDep, SessionDep, SettingsDep, StoreDep, WorldDep
from web.errors import LimitExceeded
from web.params import DEFAULT_PAGE, DeferredLimit, DeferredOffset, JobId, Limit, Offset
from web.responses import SAME_SESSION, SESSION_ERRORS, errors, links
from web.schemas.info import ExplanationOut
from web.schemas.jobs import DecisionOut, HistoryOut, QueueOut, ResetOut, RunOut, SubmitBatchOut, SubmitOut, UploadOut
from web.sizes import check_csv_rows, check_json_items, in_slices
from xai.templates import DecisionFacts

router = APIRouter(tags=["jobs"])
# Validated SLICE_JOBS at a time (web/sizes.py): one pydantic call over 100,000 jobs held the interpreter lock,
# and so the event loop and /health, for 105 ms.
parse_jobs = in_slices(parse_jobs)
_SESSION = errors(*SESSION_ERRORS)
_BODY = errors(*SESSION_ERRORS, 413, 422)
_QUERY = errors(*SESSION_ERRORS, 422)
_JOB = errors(*SESSION_ERRORS, 404, 422)
_QUEUED = links(200, run=SAME_SESSION, queue=SAME_SESSION)
Detail = Annotated[Literal["full", "compact"], Query(description="full: the reference's per-job object; compact: the essentials.")]
_CSV_TEXT = f"CSV: priority,cpu,memory and optionally {','.join(c for c in CSV_COLUMNS if c not in ('priority', 'cpu', 'memory'))}"
_FIRST_RUN = "$response.body#/scheduled_jobs/0"
_RAN = links(
    200, job={"job_id": f"{_FIRST_RUN}/job_id", **SAME_SESSION}, job_explanation={"job_id": f"{_FIRST_RUN}/job_id", **SAME_SESSION},
    explain={"requestBody": _FIRST_RUN, **SAME_SESSION}, history=SAME_SESSION, queue=SAME_SESSION, summary=SAME_SESSION, reset=SAME_SESSION,
)  # fmt: skip
STREAM_CHUNK_JOBS = {"full": 1000, "compact": 10_000}
"""Jobs per streamed piece: about 4 MB either way, few thread-pool hops, bounded memory."""
# These routes read the raw body (validated by scheduler.core.jobs in one pass); the schema is declared here.
_JOB_EXAMPLE = {"priority": "green", "latency": "low", "cpu": 15, "memory": 39}
_TIMED_EXAMPLE = {"priority": "performance", "cpu": 80, "memory": 70, "urgency": "flexible", "deadline": 240, "duration_min": 30}
_ARRAY_BODY = {"requestBody": {"required": False, "content": {"application/json": {
    "schema": {"type": "array", "items": JOB_SCHEMA}, "examples": {"jobs": {"value": [_JOB_EXAMPLE, _TIMED_EXAMPLE]}}}}}}  # fmt: skip
_OBJECT_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": JOB_SCHEMA, "examples": {"job": {"value": _JOB_EXAMPLE}, "flexible job": {"value": _TIMED_EXAMPLE}}}}}}  # fmt: skip


_ONE_JOB_HINT = 'send one job as a JSON object, e.g. {"priority": "green", "cpu": 15, "memory": 39}'
_ARRAY_HINT = "send the array to POST /submit_batch (queues every job, or none) or to POST /run (queues and schedules them)"


def _check_batch(n: int, limit: int) -> None:
    if n > limit:
        raise LimitExceeded(f"{n} jobs in one request; the limit is {limit} (TASKPILOT_MAX_BATCH_JOBS)")


def _parse_body(body: bytes, limit: int, max_errors: int) -> JobBatch:
    """The jobs of a JSON array body (empty body: none), checked against the per-request cap."""
    jobs = parse_jobs(body, max_errors) if body.strip() else JobBatch.empty()
    _check_batch(len(jobs), limit)
    return jobs


def _enqueue(store: SessionStore, session: Session, jobs: JobBatch) -> list[int]:
    # Callers run this in the thread pool: the lock may be held by a long /run of the same session,
    # and waiting for it on the event loop would stall every other request.
    with session.lock:
        store.check_room(session, len(jobs))
        return session.enqueue(jobs).tolist()


@router.post("/submit", response_model=SubmitOut, responses={**_BODY, **_QUEUED}, openapi_extra=_OBJECT_BODY)
async def submit(request: Request, session: SessionDep, store: StoreDep, settings: SettingsDep) -> dict[str, int]:
    """Queue one job."""
    body = await request.body()
    # Decoded and validated off the event loop: one job of 1.3 M keys (16 MB) takes over a second to refuse.
    return {"job_id": (await run_in_threadpool(lambda: _enqueue(store, session, _one_job(body, settings.max_errors))))[0]}


def _one_job(body: bytes, max_errors: int) -> JobBatch:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(422, {"message": f"the body is not JSON: {exc}", "hint": _ONE_JOB_HINT}) from None
    if isinstance(payload, list):
        message = f"the body is a JSON array of {len(payload)} item(s); /submit takes one job object"
        raise HTTPException(422, {"message": message, "hint": _ARRAY_HINT})
    return parse_job(payload, max_errors)


@router.post("/submit_batch", response_model=SubmitBatchOut, responses={**_BODY, **_QUEUED}, openapi_extra=_ARRAY_BODY)
async def submit_batch(request: Request, session: SessionDep, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Queue a JSON array of jobs: all of them, or none when any is invalid (422 lists every problem)."""
    body = await request.body()

    def parse_and_queue() -> list[int]:
        check_json_items(body, settings.max_batch_jobs)
        return _enqueue(store, session, _parse_body(body, settings.max_batch_jobs, settings.max_errors))

    ids = await run_in_threadpool(parse_and_queue)
    return {"job_ids": ids, "count": len(ids)}


@router.post("/upload", response_model=UploadOut, responses={**_BODY, **_QUEUED})
async def upload(
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description=_CSV_TEXT)],
) -> dict[str, Any]:
    """Validate a job CSV and queue its rows; errors name the file row (header = row 1), nothing is queued."""
    data = await file.read()

    def parse_and_queue() -> list[int]:
        check_csv_rows(data, settings.max_batch_jobs)
        jobs, rows = parse_csv_rows(data, settings.max_errors)
        _check_batch(len(jobs), settings.max_batch_jobs)
        try:
            return _enqueue(store, session, jobs)
        except JobValidationError as exc:  # a deadline checked on the session's clock: name the file row
            raise JobValidationError([{"row": rows[e.pop("index")], **e} for e in exc.errors]) from None

    ids = await run_in_threadpool(parse_and_queue)
    return {"job_ids": ids, "count": len(ids), "filename": file.filename}


# The decisions stream out as encoded (scheduler/service/decisions.py); RunOut documents them, and FastAPI
# does not validate a returned Response against it.
@router.post("/run", response_model=RunOut, responses={**_BODY, **_RAN}, openapi_extra=_ARRAY_BODY)
async def run(
    request: Request, session: SessionDep, store: StoreDep, settings: SettingsDep, world: WorldDep, detail: Detail = "full"
) -> StreamingResponse:
    """Schedule the session's queue, plus any jobs in the body (appended to the queue), and return every
    decision. The response streams, so a 100,000-job run never sits in memory as one document."""
    body = await request.body()

    def schedule() -> tuple[BatchRecord, dict[str, Any]]:
        check_json_items(body, settings.max_batch_jobs)
        jobs = _parse_body(body, settings.max_batch_jobs, settings.max_errors)
        with session.lock:
            # The body was checked against max_batch_jobs; the queue only ever holds accepted batches
            # and is bounded by max_session_jobs, so it is not counted against the per-request cap.
            store.check_room(session, len(jobs))
            record = session.run(jobs)
            tail = {"server_loads": dict(zip(world.fleet.names, session.engine.loads.tolist()))}
            clock = session.clock_h
            if clock is not None:  # grid sessions: the clock after the run, against which "deferred" is read
                tail["clock_utc"] = session.engine.scenario.clock_label(clock)
            return record, tail

    record, tail = await run_in_threadpool(schedule)
    encode = decisions.encode_full if detail == "full" else decisions.encode_compact
    return StreamingResponse(_stream(world, record, tail, encode, STREAM_CHUNK_JOBS[detail]), media_type="application/json")


def _stream(world: World, record: BatchRecord, tail: dict[str, Any], encode: Any, size: int) -> Iterator[bytes | memoryview]:
    """{"scheduled_jobs":[...],"server_loads":{...}} (grid: and "clock_utc") in pieces of `size` jobs; the
    pieces go out as encoded (views of numpy buffers), with separators yielded on their own rather than
    copied in."""
    yield b'{"scheduled_jobs":['
    for start in range(0, len(record), size):
        if start:
            yield b","
        yield encode(world, record, start, min(start + size, len(record)))
    yield b"]," + orjson.dumps(tail)[1:]


@router.post("/reset", response_model=ResetOut, responses=_SESSION)
def reset(session: SessionDep) -> dict[str, str]:
    """Return the session to its state at creation (queue, history, loads, pointer, agents, random streams)."""
    with session.lock:
        session.reset()
    return {"status": "reset ok"}


@router.get(
    "/history",
    response_model=HistoryOut,
    responses={**_QUERY, **links(200, job={"job_id": "$response.body#/jobs/0/job_id", **SAME_SESSION})},
)
def history(world: WorldDep, session: SessionDep, offset: Offset = 0, limit: Limit = DEFAULT_PAGE) -> Response:
    """Scheduled jobs of the session, oldest first, a page at a time (no explanations: see /jobs/{id})."""
    with session.lock:
        records = list(session.history)
        clock = session.clock_h
    total = sum(len(r) for r in records)
    chunks: list[bytes] = []
    skip, wanted = offset, limit
    for record in records:
        if wanted == 0:
            break
        if skip >= len(record):
            skip -= len(record)
            continue
        stop = min(len(record), skip + wanted)
        chunks.append(decisions.encode_compact(world, record, skip, stop, with_text=False, clock_h=clock))
        wanted -= stop - skip
        skip = 0
    head = orjson.dumps({"total": total, "offset": offset, "limit": limit})[:-1]
    return Response(b"".join([head, b',"jobs":[', b",".join(chunks), b"]}"]), media_type="application/json")


@router.get(
    "/queue",
    response_model=QueueOut,
    responses={**_QUERY, **links(200, job={"job_id": "$response.body#/deferred/0/job_id", **SAME_SESSION})},
)
def queue(
    world: WorldDep, session: SessionDep, offset: Offset = 0, limit: Limit = DEFAULT_PAGE,
    deferred_offset: DeferredOffset = None, deferred_limit: DeferredLimit = None,
) -> Response:  # fmt: skip
    """Jobs waiting for the next POST /run, in submission order, a page at a time; and (grid sessions)
    jobs already placed but deferred to a start still ahead of the session's clock, by planned start."""
    d_offset = offset if deferred_offset is None else deferred_offset
    d_limit = limit if deferred_limit is None else deferred_limit
    with session.lock:
        total = session.queued
        ids, jobs = session.queue_page(offset, limit)
        deferred_total, deferred = session.deferred_page(d_offset, d_limit)
        clock, scenario = session.clock_h, session.engine.scenario
    head = orjson.dumps({
        "total": total, "offset": offset, "limit": limit, "jobs": [{"job_id": i, **j} for i, j in zip(ids.tolist(), to_dicts(jobs))],
        "deferred_total": deferred_total, "deferred_offset": d_offset, "deferred_limit": d_limit,
        "clock_utc": None if clock is None else scenario.clock_label(clock),
    })  # fmt: skip
    # The deferred decisions go in as encoded, like /history's: no decode and re-encode of each row.
    waiting = [decisions.encode_compact(world, record, row, row + 1, with_text=False, clock_h=clock) for record, row in deferred]
    return Response(b"".join([head[:-1], b',"deferred":[', b",".join(waiting), b"]}"]), media_type="application/json")


def _find(session: Session, job_id: int) -> tuple[BatchRecord, int]:
    with session.lock:
        found = session.find(job_id)
    if found is None:
        raise HTTPException(404, f"no scheduled job {job_id} in this session")
    return found


@router.get("/jobs/{job_id}", response_model=DecisionOut, responses=_JOB)
def job(job_id: JobId, world: WorldDep, session: SessionDep) -> Response:
    """One scheduled job in the reference's full form."""
    record, row = _find(session, job_id)
    with session.lock:
        clock = session.clock_h
    return Response(decisions.encode_full(world, record, row, row + 1, clock_h=clock), media_type="application/json")


@router.get("/jobs/{job_id}/explanation", response_model=ExplanationOut, responses=_JOB)
async def job_explanation(job_id: JobId, world: WorldDep, session: SessionDep, slots: LLMDep, llm: bool = False) -> dict[str, Any]:
    """The template explanation, or with llm=true the LLM-refined text (template when no key, timeout or error,
    or when TASKPILOT_LLM_CONCURRENCY refinements are already running)."""

    def facts_of_job() -> DecisionFacts:  # on a thread: the session's lock may be held by a run
        record, row = _find(session, job_id)
        return decision_facts(world, record, row, row + 1)[0]

    facts = await run_in_threadpool(facts_of_job)
    if not llm:
        return {"job_id": job_id, "explanation": slots.explainer.template(facts), "source": "template", "note": None}
    result = await slots.refine(facts)
    return {"job_id": job_id, "explanation": result.text, "source": result.source, "note": result.note}
