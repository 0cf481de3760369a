"""Creates or upgrades the database schema with Alembic (`kyodo init`, `serve`, tests)."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from kyodo.store.sql.database import SqlDatabase


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("kyodo.store.migrations")))
    return config


def _upgrade(connection: Any, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(database: SqlDatabase) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = alembic_config()
    async with database.engine.begin() as conn:
        await conn.run_sync(_upgrade, config)
