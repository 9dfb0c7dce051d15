"""What the in-process benchmarks share: the servers' default settings and the World they build."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.placement.engine import World
    from scheduler.settings import Settings


def default_settings() -> "Settings":
    """Defaults, whatever TASKPILOT_* says: the settings every benchmarked server gets (bench.live drops
    TASKPILOT_* and the Groq key from the server's environment)."""
    from scheduler.settings import Settings

    return Settings(_env_prefix="TASKPILOT_BENCH_IGNORED_", groq_api_key=None, log_level="WARNING")


async def lifespan_world(settings: "Settings") -> "World":
    """The World exactly as the server builds it: create_app's lifespan, run once and closed."""
    from api import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return app.state.world
