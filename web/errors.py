"""Domain errors to HTTP answers: always JSON {"detail": ...}, never a 500 for bad input."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from scheduler.core.errors import JobValidationError, ScenarioUnavailable, SessionError


class LimitExceeded(Exception):
    """A configured limit was hit; answered with 413 and the limit's name."""


def install(app: FastAPI) -> None:
    @app.exception_handler(JobValidationError)
    async def invalid_jobs(request: Request, exc: JobValidationError) -> JSONResponse:
        return JSONResponse({"detail": exc.errors}, status_code=422)

    @app.exception_handler(SessionError)
    async def session_problem(request: Request, exc: SessionError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(ScenarioUnavailable)
    async def scenario_unavailable(request: Request, exc: ScenarioUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(LimitExceeded)
    async def limit(request: Request, exc: LimitExceeded) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=413)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own shape, minus the echoed input (it may be huge or binary).
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)
