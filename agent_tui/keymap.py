"""The user's keymap file: binding ids to keys, read once when the app starts.

``keymap.toml`` under the config dir (or ``AGENT_TUI_KEYMAP_FILE``)::

    "queue.refresh" = "f5"
    "ticket.reply" = "r,ctrl+r"     # several keys, comma-separated

Every Binding in the app has an id (``?`` shows them), so the same ids
drive the footer, the help screen and this file. A broken file or an
unknown id is reported and skipped; the app still starts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LoadedKeymap:
    keys: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_keymap(path: Path, known_ids: set[str]) -> LoadedKeymap:
    """Read ``path`` (missing is fine); keep entries whose id is known."""
    loaded = LoadedKeymap()
    if not path.is_file():
        return loaded
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        loaded.problems.append(f"{path}: not read ({exc}); default keys are used")
        return loaded
    table = data.get("keys", data)  # a [keys] table or top-level entries
    for binding_id, keys in table.items():
        if not isinstance(keys, str) or not keys.strip():
            loaded.problems.append(f"{path}: {binding_id!r} needs keys as a string like \"f5\"")
        elif binding_id not in known_ids:
            loaded.problems.append(f"{path}: no binding with id {binding_id!r} (see ? for ids)")
        else:
            loaded.keys[binding_id] = ",".join(k.strip() for k in keys.split(","))
    return loaded
