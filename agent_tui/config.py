"""Settings (ARCHITECTURE §10): environment (AGENT_TUI_*), a TOML file under
the platformdirs config dir, then defaults. No import-time singletons:
call :func:`load_settings` where settings are needed."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

APP_NAME = "agent-tui"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'agent-tui.db'}"


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.data: dict[str, Any] = {}
        if path.is_file():
            self.data = tomllib.loads(path.read_text(encoding="utf-8"))

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Where the store is and who the app opens as."""

    model_config = SettingsConfigDict(env_prefix="AGENT_TUI_", extra="ignore")

    db: str = Field(default_factory=default_db_url, description="store URL")
    server: str | None = Field(default=None, description="team server URL")
    login: str | None = Field(default=None, description="agent login the app opens as")
    theme: str = "textual-dark"
    config_file: Path = Field(default_factory=lambda: config_dir() / "config.toml")
    keymap_file: Path = Field(default_factory=lambda: config_dir() / "keymap.toml",
                              description="binding id = keys (see agent_tui.keymap)")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        import os

        path = Path(os.environ.get("AGENT_TUI_CONFIG_FILE", config_dir() / "config.toml"))
        return (init_settings, env_settings, _TomlSource(settings_cls, path))


def load_settings(**overrides: Any) -> Settings:
    """Settings with explicit overrides (CLI flags) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
