"""Where the client keeps its token: env, keyring, or a private file (never 0644)."""

from __future__ import annotations

import os
import stat

import keyring
import pytest
from keyring.backend import KeyringBackend

from agent_tui.credentials import (
    CredentialError,
    forget_token,
    load_token,
    save_token,
    token_file,
)
from agent_tui.services.doctor import credential_store

SERVER = "http://team.example:8765"


class MemoryKeyring(KeyringBackend):
    """A working keyring for the test (the build machines have none)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


def test_without_a_keyring_the_token_goes_to_a_0600_file() -> None:
    assert not credential_store().usable  # the conftest selects the null keyring
    where = save_token(SERVER + "/", "atui_abc_secret")
    path = token_file()
    assert where == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token(SERVER).token == "atui_abc_secret"
    assert load_token(SERVER).source == str(path)
    assert "atui_abc_secret" not in (path.parent / "config.toml").read_text() \
        if (path.parent / "config.toml").exists() else True
    forget_token(SERVER)
    with pytest.raises(CredentialError, match="agent-tui login"):
        load_token(SERVER)


def test_a_group_or_world_readable_token_file_is_refused() -> None:
    save_token(SERVER, "atui_abc_secret")
    path = token_file()
    os.chmod(path, 0o644)
    with pytest.raises(CredentialError, match="chmod 600"):
        load_token(SERVER)
    os.chmod(path, 0o640)
    with pytest.raises(CredentialError, match="readable by others"):
        load_token(SERVER)
    os.chmod(path, 0o600)
    assert load_token(SERVER).token == "atui_abc_secret"


def test_the_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TUI_TOKEN", "atui_from_env")
    found = load_token(SERVER)
    assert (found.token, found.source) == ("atui_from_env", "env")
    assert credential_store().token_env_set


def test_a_working_keyring_is_used_and_no_file_is_written() -> None:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        assert save_token(SERVER, "atui_kr_secret") == "keyring"
        assert ring.items == {("agent-tui", SERVER): "atui_kr_secret"}
        assert not token_file().exists()
        assert load_token(SERVER).source == "keyring"
        assert credential_store().usable
    finally:
        keyring.set_keyring(previous)
