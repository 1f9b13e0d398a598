"""Schemathesis over the server's OpenAPI spec, as each role: no server error, no answer
outside the spec (status code, content type, headers, body schema).

The CLI runs in its own process against the real uvicorn of the ``served``
fixture, with a fixed seed so a failure reproduces (``st replay`` with the
printed case id). Two checks are left out on purpose: the API validates more
than its schema can say (a team view needs a team name; a merge target must
be another ticket), answered with a documented 422, which
``positive_data_acceptance`` counts as a failure; and ``negative_data_rejection``
is about inputs the server tolerates (extra fields), not about what it sends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import Served

#: Role → token name in the ``served`` fixture (see tests/server/conftest.py).
ROLES = {"agent": "alice", "supervisor": "sam", "admin": "ada", "anonymous": None}
EXAMPLES = {"agent": 6, "supervisor": 6, "admin": 6, "anonymous": 2}
SEED = "20261203"


def schemathesis() -> str:
    exe = Path(sys.executable).with_name("schemathesis")
    if not exe.exists():
        pytest.fail("schemathesis is not installed: pip install -e '.[test]'")
    return str(exe)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_answers_within_the_spec(served: Served, role: str,
                                             tmp_path: Path) -> None:
    command = [schemathesis(), "run", f"{served.url}/api/v1/openapi.json",
               "--max-examples", str(EXAMPLES[role]), "--seed", SEED,
               "--phases", "examples,fuzzing",
               "--exclude-checks", "positive_data_acceptance,negative_data_rejection",
               "--generation-database", "none", "--no-color"]
    login = ROLES[role]
    if login is not None:
        command += ["--header", f"Authorization: Bearer {served.token[login]}"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NO_COLOR": "1"})
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"schemathesis as {role}:\n{report}"
    assert " passed" in done.stdout, report
