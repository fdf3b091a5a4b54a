"""``--notify``: a command or a webhook hears how a run ended, and a notice that cannot be
delivered never fails the run."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.runs.listing import list_runs

TINY = ["train", "spirals-mlp", "--epochs", "1"]


@pytest.mark.slow
def test_a_command_gets_the_report_on_its_input_and_in_its_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, state = tmp_path / "report.json", tmp_path / "state.txt"
    assert main([*TINY, "--notify", f'printf %s "$WORKBENCH_STATE" > {state}; cat > {report}']) == 0
    sent = json.loads(report.read_text())
    (run,) = list_runs()
    assert sent["run"] == run.id and sent["state"] == "finished" and state.read_text() == "finished"
    assert sent["text"].startswith("Finished after 1 epoch in") and "acc" in sent["test"]


@pytest.mark.slow
def test_a_failed_run_is_reported_as_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    experiment = tmp_path / "diverge.toml"
    experiment.write_text(
        '[data]\ndataset = "diabetes"\nbatch_size = 16\n[[model.layers]]\ntype = "Linear"\nout_features = "auto"\n'
        '[loss]\nname = "mse"\n[optimizer]\nname = "sgd"\nlr = 3.0\n[schedule]\nwarmup_epochs = 2.0\n[train]\nepochs = 4\n'
    )
    report = tmp_path / "report.json"
    assert main(["train", str(experiment), "--notify", f"cat > {report}"]) == 1
    sent = json.loads(report.read_text())
    assert sent["state"] == "failed" and "the loss became inf" in sent["text"]


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_webhook_gets_the_report_as_a_json_post(webhook: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*TINY, "--notify", webhook]) == 0
    (sent,) = _Hook.received
    assert sent["state"] == "finished" and sent["run"] == list_runs()[0].id


@pytest.mark.slow
def test_a_notice_that_cannot_be_delivered_is_one_line_and_the_run_still_finishes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*TINY, "--notify", "exit 3"]) == 0
    err = capsys.readouterr().err
    assert "--notify exit 3: the notice was not delivered (the command exited with 3)" in err
    assert list_runs()[0].state == "finished"


def test_a_webhook_is_reached_with_the_proxy_settings_of_now(
    webhook: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """urlopen's shared opener keeps the proxies of the process's first request: after a download
    tried offline (a dead proxy), every notice went to that proxy and was refused."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(webhook, timeout=5)  # the shared opener now holds the dead proxy
    monkeypatch.delenv("http_proxy")
    try:
        assert main([*TINY, "--notify", webhook]) == 0
        assert len(_Hook.received) == 1
    finally:
        urllib.request.install_opener(None)  # leave no dead proxy to the tests after this one
