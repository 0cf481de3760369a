"""Settings come from KYODO_* variables and a TOML file named by KYODO_CONFIG (env wins)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kyodo.settings import Settings


def test_defaults_are_the_embedded_single_machine_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KYODO_DATABASE_URL", "KYODO_CONFIG", "KYODO_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///./kyodo.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_toml_file_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "kyodo.toml"
    config.write_text('port = 9000\nsession_hours = 2\nscheme_dirs = ["/etc/kyodo/schemes"]\n')
    monkeypatch.setenv("KYODO_CONFIG", str(config))
    monkeypatch.setenv("KYODO_PORT", "9100")
    settings = Settings()
    assert settings.port == 9100  # the environment wins over the file
    assert settings.session_hours == 2
    assert settings.scheme_dirs == [Path("/etc/kyodo/schemes")]


def test_bad_values_and_unknown_keys_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KYODO_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("KYODO_PORT")
    config = tmp_path / "kyodo.toml"
    config.write_text("prot = 1\n")
    monkeypatch.setenv("KYODO_CONFIG", str(config))
    with pytest.raises(ValidationError):
        Settings()


def test_the_admin_password_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin"
    secret.write_text("from a file\n")
    assert Settings(admin_password_file=secret).admin_secret() == "from a file"
