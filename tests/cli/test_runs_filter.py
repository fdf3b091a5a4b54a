"""`workbench runs WORD...` lists the runs the Runs screen's `/` filter would show, by the same rule."""

from __future__ import annotations

import json

import pytest

from tests.runs.recording import new_run
from workbench.cli import main


def test_words_list_only_the_runs_that_hold_every_one(capsys: pytest.CaptureFixture[str]) -> None:
    alpha, beta = new_run("alpha-digits"), new_run("beta-digits")
    assert main(["runs", "ALPHA", "digits"]) == 0
    out = capsys.readouterr().out
    assert alpha.id in out and beta.id not in out
    assert main(["runs", "digits", "--json"]) == 0
    assert sorted(r["id"] for r in json.loads(capsys.readouterr().out)) == sorted([alpha.id, beta.id])


def test_words_no_run_holds_are_said_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    new_run("alpha-digits")
    assert main(["runs", "gamma"]) == 0
    assert capsys.readouterr().out.strip() == "no run matches 'gamma'; `workbench runs` lists them all"
