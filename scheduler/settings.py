"""Process settings, read from the environment (prefix TASKPILOT_, plus GROQ_API_KEY).

This is the only module that reads environment variables. Tests build a `Settings(...)` directly and
pass it to `api.create_app(settings)`.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scheduler.core.states import folded

ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Everything an operator can configure; defaults suit a laptop or a Render free instance."""

    model_config = SettingsConfigDict(env_prefix="TASKPILOT_", extra="ignore", frozen=True)

    seed: int = Field(42, ge=0)
    """Root seed: every session's random stream derives from it and the session id (or a client seed)."""
    data_dir: Path = ROOT / "dataset_rl"
    """Folder holding Server_L.xlsx, price.csv, task_15min_L.csv and steel_industry_data.csv."""
    cache_dir: Path | None = ROOT / ".cache"
    """Parsed data files are kept here between start-ups (keyed by content); empty disables it."""
    session_ttl_s: float = Field(3600.0, gt=0)
    """Idle sessions older than this are dropped."""
    max_sessions: int = Field(1000, ge=1)
    """At most this many live sessions; the least recently used idle one makes room for a new one."""
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    """Request bodies larger than this get 413."""
    header_timeout_s: float = Field(10.0, gt=0, le=600)
    """A connection that has not sent a whole request line and headers this long after opening (or after its first byte) is closed."""
    max_header_bytes: int = Field(65_536, ge=4096, le=16 * 1024 * 1024)
    """A request line and headers longer than this get 431 and the connection is closed."""
    body_timeout_s: float = Field(20.0, gt=0, le=600)
    """A request body that sends nothing for this long (between two chunks) gets 408 and the connection is closed."""
    max_errors: int = Field(100, ge=1, le=10_000)
    """Problems an error answer lists; the rest are counted in its `truncated` (docs/API.md, Errors)."""
    max_batch_jobs: int = Field(100_000, ge=1)
    """Jobs accepted in one request (submit_batch, run, upload); more gets 413."""
    max_session_jobs: int = Field(100_000, ge=1)
    """Jobs one session may hold (queued plus scheduled) before it must be reset; more gets 413."""
    max_total_jobs: int = Field(150_000, ge=1)
    """Jobs all sessions together may hold (about 490 bytes each in grid sessions, by RSS: 74 MB); more gets 503.
    Every cap at once fits 512 MB: docs/configuration.md, `python -m bench --only caps`."""
    max_client_jobs: int = Field(100_000, ge=1)
    """Jobs the sessions one client address started may hold together, so one client cannot fill max_total_jobs; more gets 413."""
    max_client_sims: int = Field(1, ge=1)
    """Simulations one client address may have queued or running at once (of max_sim_runs); one more gets 429."""
    max_client_plans: int = Field(1, ge=1)
    """POST /plan requests one client address may have in progress at once; one more gets 429."""
    rate_limit_client: str = "1200/minute"
    """Requests per client address (every route but /health and /static), as `N/second|minute|hour`, `;` between several; empty: none."""
    rate_limit_session: str = "600/minute"
    """Requests per session (X-Session-ID), in the same notation; empty: none."""
    rate_limit_new_sessions: str = "30/minute"
    """New sessions per client address (GET /session, or a request with no or an unknown X-Session-ID); empty: none."""
    api_key_hashes: str = ""
    """SHA-256 hex digests of the API keys that may call write endpoints (POST, DELETE), comma-separated; empty: no key needed."""
    cors_origins: str = ""
    """Origins whose pages may call the API (CORS), comma-separated, e.g. https://app.example.org; empty: none (CORS off)."""
    pretrain_episodes: int = Field(500, ge=0)
    """Pre-training episodes per tier agent at start-up."""
    groq_api_key: str | None = Field(None, validation_alias=AliasChoices("GROQ_API_KEY", "TASKPILOT_GROQ_API_KEY"))
    """Key for LLM refinement of explanations; without it the template text is used."""
    llm_model: str = "llama-3.3-70b-versatile"
    """Groq model used to refine explanations."""
    llm_timeout_s: float = Field(5.0, gt=0)
    """An LLM call slower than this falls back to the template text."""
    llm_base_url: str | None = None
    """Groq-compatible endpoint; empty means Groq's cloud (tests point it at a local stand-in)."""
    llm_cache_size: int = Field(256, ge=1)
    """Refined explanations kept, one per shape of cause (xai.explainer.cause_shape: chosen server, tier, kind of cause, what it names)."""
    llm_concurrency: int = Field(4, ge=1, le=64)
    """LLM refinements running at once, on threads of their own (web/llm_slots.py); one more gets the template."""
    scenario: Literal["reference", "grid"] = "reference"
    """Signal for sessions that do not choose one (GET /session?scenario=): the seed's proxy or real grid data."""
    grid_start: str = "2023-01-01T00:00Z"
    """Grid scenario: the simulated clock's UTC time at a session's first job (2021-01-01 .. 2023-12-31)."""
    grid_minutes_per_job: float = Field(15.0, gt=0, le=1440)
    """Grid scenario: the clock advances this much per scheduled job (the task trace's 15-minute step)."""
    grid_basis: Literal["direct", "lca"] = "direct"
    """Grid scenario: direct (combustion) or life-cycle average carbon intensity."""
    power_curve: Literal["linear", "specpower"] = "linear"
    """Grid scenario: power between P_idle and P_peak rises linearly with load, or as the SPECpower median."""
    carbon_bands: str = "p33,p67"
    """Grid scenario: low/medium/high band thresholds, as percentiles of the zone's last week ("p33,p67") or gCO2/kWh ("140,260")."""
    forecast: Literal["perfect", "noisy", "persistence"] = "persistence"
    """Grid scenario: the carbon forecast deferral decisions use (perfect is an upper bound, not a real forecast)."""
    forecast_error: float = Field(0.05, ge=0, le=2)
    """Grid scenario: the noisy forecast's standard deviation, as a share of the series' mean."""
    flexible_slack_h: float = Field(24.0, gt=0, le=720)
    """Grid scenario: how long past its run-now finish a flexible job without a deadline may finish."""
    regions_file: Path | None = None
    """server,zone CSV for the grid scenario; empty means regions.csv in data_dir."""
    grid_policy: Literal["tier_agents", "dqn"] = "tier_agents"
    """Grid scenario: what places sessions' jobs: the tier agents, or the DQN pre-trained offline (dqn_weights)."""
    dqn_weights: Path | None = None
    """Grid scenario with grid_policy dqn: a weights file of `python -m scheduler train-dqn`; empty means the shipped one."""
    max_sim_jobs: int = Field(10_000, ge=1)
    """Jobs one POST /simulate may ask for (per policy); more gets 413. The simulator's own cap is 200,000 (about 1.8 KB a job)."""
    max_plan_jobs: int = Field(10_000, ge=1)
    """Jobs one POST /plan may ask for; more gets 413."""
    max_plan_slots: int = Field(527_040, ge=24)
    """Slots of a plan's grid (series span / step_min; an inline series on its finest step): memory; more gets 413. 366 days of minutes."""
    max_plan_work: int = Field(25_000_000, ge=1000)
    """A plan's jobs x window slots x forecast runs (its time: 21.4 M took 4.9 s here); more gets 413."""
    max_plan_pieces: int = Field(200_000, ge=100)
    """[start, end] runs one plan's answer may list (about 450 bytes each while it is built); more gets 413."""
    plan_timeout_s: float = Field(30.0, gt=0, le=3600)
    """A plan still being computed after this is stopped and answered with 503 saying so."""
    plan_workers: int = Field(1, ge=1, le=32)
    """Plans computed at once (threads of their own, outside the shared pool); the others wait their turn."""
    max_plan_waiting: int = Field(16, ge=0, le=10_000)
    """Plans waiting for a worker; one more gets 429 with Retry-After."""
    max_sim_job_runs: int = Field(1_400_000, ge=1)
    """A placement simulation's jobs x policies (200,000 x 7 took 10.5 s here, at 513 MB); more gets 413."""
    max_deferral_work: int = Field(100_000_000, ge=1000)
    """A deferral study's jobs x (strategy runs x window slots, over its regions): 99.8 M took 6.7 s here; more gets 413."""
    max_sim_runs: int = Field(2, ge=1)
    """Simulations running at once across the process; one more gets 429."""
    sim_timeout_s: float = Field(300.0, gt=0)
    """A simulation still running after this is cancelled and reported as failed."""
    max_sim_results: int = Field(20, ge=1)
    """Finished simulations kept for GET /simulate/{id}; the oldest goes first."""
    store: Literal["sqlite", "memory"] = "sqlite"
    """Where workflows are kept: sqlite (the database file; durable) or memory (gone with the process)."""
    database: Path = ROOT / ".data" / "taskpilot.db"
    """The SQLite file of workflows, tasks, attempts and transitions (WAL mode); ':memory:' for a throw-away run."""
    workers_fast: int = Field(2, ge=1, le=64)
    """Worker processes of the FAST pool: tasks whose when-decision is run now, FAST."""
    workers_eco: int = Field(1, ge=1, le=64)
    """Worker processes of the ECO pool (nice 10): tasks the when-policy runs in ECO mode."""
    queue_order: Literal["fifo", "priority", "edf", "sjf", "rl"] = "fifo"
    """Which ready task a free worker takes first: submission order, urgency, earliest deadline, shortest first, learned."""
    dispatcher_weights: Path | None = None
    """queue_order rl: a weights file of `python -m scheduler dispatch train`; empty means the shipped one."""
    dispatcher_frozen: bool = False
    """queue_order rl: true keeps the weights as loaded; false keeps learning from the deadlines real runs meet or miss."""
    clock_scale: float = Field(600.0, gt=0, le=86_400)
    """Session-clock seconds per executor second: a task deferred 6 h on a grid session's clock starts 36 s later."""
    task_module: str | None = None
    """A Python module registering your own task kinds (@task_kind); imported at start-up by the service and its workers."""
    shutdown_grace_s: float = Field(30.0, ge=0, le=3600)
    """On SIGTERM, running tasks get this long to finish; the rest are queued again for the next start."""
    max_workflow_tasks: int = Field(1000, ge=1, le=100_000)
    """Tasks one workflow may have; more gets 413."""
    max_params_bytes: int = Field(16_384, ge=64, le=1_048_576)
    """A task's params (and its compensation's), as JSON, may be this large; more gets 413."""
    log_level: str = "INFO"
    """Python logging level of the service."""

    @field_validator("grid_start")
    @classmethod
    def _iso_time(cls, value: str) -> str:
        try:
            np.datetime64(value.strip().rstrip("Z"), "m")
        except ValueError:
            raise ValueError(f"grid_start must be an ISO time such as 2023-01-01T00:00Z, got {value!r}") from None
        return value.strip()

    @field_validator("carbon_bands")
    @classmethod
    def _bands(cls, value: str) -> str:
        from scheduler.core.bands import BandPolicy

        BandPolicy.parse(value)  # ValueError says what is wrong
        return value

    @field_validator("rate_limit_client", "rate_limit_session", "rate_limit_new_sessions")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse_many

        if value.strip():
            try:
                parse_many(value)
            except ValueError:
                raise ValueError(f"a rate limit is N/second, N/minute, N/hour or N/day (several joined by ';'), got {value!r}") from None
        return value.strip()

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes(cls, value: str) -> str:
        for digest in filter(None, (d.strip() for d in value.split(","))):
            if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
                raise ValueError(f"api_key_hashes holds SHA-256 hex digests (64 characters each), got {digest[:80]!r}")
        return value.strip()

    @field_validator("scenario", mode="before")
    @classmethod
    def _scenario_in_any_case(cls, value: object) -> object:
        """TASKPILOT_SCENARIO=Grid is grid."""
        return folded(value)

    @field_validator("cache_dir", "groq_api_key", "llm_base_url", "regions_file", "dqn_weights", "dispatcher_weights", "task_module",
                     mode="before")  # fmt: skip
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`GROQ_API_KEY=` in a .env file means no key, not an empty one."""
        return None if isinstance(value, str) and not value.strip() else value


@lru_cache
def get_settings() -> Settings:
    """The process's settings from the environment, read once."""
    return Settings()
