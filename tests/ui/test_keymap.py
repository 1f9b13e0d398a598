"""The user's keymap file remaps bindings by id; mistakes are reported, not fatal."""

from __future__ import annotations

from pathlib import Path

from agent_tui.app import AgentApp, binding_ids
from agent_tui.keymap import load_keymap
from agent_tui.local import LocalBackend
from tests.ui.conftest import SIZE, Shop, queue, queue_ready, wait_for, wait_for_text


def test_every_binding_has_an_id_and_the_file_is_checked(tmp_path: Path) -> None:
    ids = binding_ids()
    assert {"queue.refresh", "ticket.reply", "composer.send", "kb.insert"} <= ids
    path = tmp_path / "keymap.toml"
    path.write_text('"queue.refresh" = "f5, ctrl+r"\n"ticket.nope" = "x"\n'
                    '"ticket.reply" = 3\n', encoding="utf-8")
    loaded = load_keymap(path, ids)
    assert loaded.keys == {"queue.refresh": "f5,ctrl+r"}
    assert len(loaded.problems) == 2 and "ticket.nope" in loaded.problems[0]
    path.write_text("not = [toml", encoding="utf-8")
    assert "not read" in load_keymap(path, ids).problems[0]
    assert load_keymap(tmp_path / "missing.toml", ids).keys == {}


async def test_a_remapped_key_works_and_problems_are_shown(shop: Shop) -> None:
    app = AgentApp(LocalBackend(shop.handle(), "alice"), shop.url,
                   keymap={"queue.view.unassigned": "u"},
                   keymap_problems=["keymap.toml: no binding with id 'x.y'"])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await wait_for_text(pilot, app, "no binding with id 'x.y'")
        await pilot.press("u")
        await wait_for(pilot, lambda: queue(app).query_state.view.value == "unassigned",
                       what="the remapped view key")
