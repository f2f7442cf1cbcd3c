"""The explorer on the real default model (slow): the bank matrix in the page is `contextvec compare`'s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from server_helpers import running

from contextvec.serve.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "The bank approved my loan.",
    "We sat on the bank of the river.",
    "She deposited the cheque at the bank.",
    "The river overflowed its bank.",
]


def table_values(page: Any, name: str) -> np.ndarray:
    table = page.get_by_role("table", name=name)
    table.wait_for(timeout=120_000)
    script = "t => [...t.tBodies[0].rows].map(r => [...r.querySelectorAll('td')].map(c => Number(c.dataset.value)))"
    return np.array(table.evaluate(script), dtype=np.float64)


@pytest.mark.slow
def test_the_bank_matrix_in_the_page_is_contextvec_compares(page: Any) -> None:
    from contextvec.explore import mount_explorer
    from contextvec.serve.app import create_app

    cli = subprocess.run(
        [sys.executable, "-m", "contextvec", "compare", *TEXTS, "--word", "bank", "--versus", "glove-50d", "--json"],
        capture_output=True, text=True, check=True, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    contextual, static = json.loads(cli.stdout)
    app = mount_explorer(create_app(ServerSettings(models=["minilm"], ui=True, ui_static_model="glove-50d")))
    with running(app) as (url, _):
        state = urllib.parse.urlencode({"view": "compare", "texts": "\n".join(TEXTS), "word": "bank"})
        page.goto(f"{url}/explore#{state}")
        recipe = table_values(page, f"{contextual['model']}, recipe ({contextual['layers']})")
        glove = table_values(page, f"{static['model']} (static)")
    np.testing.assert_allclose(recipe, np.array(contextual["cosine"]), atol=2e-6)
    np.testing.assert_allclose(glove, np.array(static["cosine"]), atol=2e-6)
    assert recipe[0, 1] < 0.9 and np.allclose(glove, 1.0, atol=1e-5)  # context moves minilm's bank; GloVe's stays
    assert page.console_errors == []
