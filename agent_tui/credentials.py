"""Where a team-mode client keeps its API token (ARCHITECTURE §9).

In order: the ``AGENT_TUI_TOKEN`` environment variable (an explicit
override), the system keyring, then a file under the platformdirs config
dir that must be private (0600): a token file readable by the group or by
others is refused, never used. Tokens are never written to the config file.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent_tui.config import config_dir

SERVICE = "agent-tui"
TOKEN_ENV = "AGENT_TUI_TOKEN"
TOKEN_FILE_NAME = "token"


class CredentialError(Exception):
    """No token can be found or kept; the message says what to do."""


@dataclass(frozen=True)
class Found:
    token: str
    source: str  # "env", "keyring" or the token file's path


def token_file() -> Path:
    return config_dir() / TOKEN_FILE_NAME


def _keyring_usable() -> bool:
    import keyring
    from keyring.backends import fail, null

    return not isinstance(keyring.get_keyring(), fail.Keyring | null.Keyring)


def _key(server: str) -> str:
    return server.rstrip("/")


def _read_file(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"the token file {path} is readable by others (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}` or `agent-tui login` again")
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, json.JSONDecodeError) as exc:
        raise CredentialError(f"cannot read the token file {path}: {exc}") from exc
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_file(path: Path, tokens: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask said
        os.write(fd, json.dumps(tokens, indent=1, sort_keys=True).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def save_token(server: str, token: str) -> str:
    """Keep ``token`` for ``server``; returns where ("keyring" or the file path)."""
    if _keyring_usable():
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(SERVICE, _key(server), token)
            return "keyring"
        except KeyringError:
            pass  # a locked or broken keyring: fall back to the private file
    path = token_file()
    tokens = _read_file(path)
    tokens[_key(server)] = token
    _write_file(path, tokens)
    return str(path)


def load_token(server: str) -> Found:
    """The token for ``server``; CredentialError when there is none (or it is unsafe)."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return Found(env, "env")
    if _keyring_usable():
        import keyring
        from keyring.errors import KeyringError

        try:
            secret = keyring.get_password(SERVICE, _key(server))
        except KeyringError:
            secret = None
        if secret:
            return Found(secret, "keyring")
    path = token_file()
    secret = _read_file(path).get(_key(server))
    if secret:
        return Found(secret, str(path))
    raise CredentialError(f"no API token for {_key(server)}; run `agent-tui login "
                          f"{_key(server)}` or set {TOKEN_ENV}")


def forget_token(server: str) -> None:
    """Drop the stored token for ``server`` from the keyring and the file."""
    if _keyring_usable():
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            keyring.delete_password(SERVICE, _key(server))
        except (KeyringError, PasswordDeleteError):
            pass
    path = token_file()
    tokens = _read_file(path)
    if tokens.pop(_key(server), None) is not None:
        _write_file(path, tokens)
