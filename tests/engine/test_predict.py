"""`workbench predict` on a person's own files: the answer eval gives for the same sample, and
one line for a file that cannot be read as one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.engine.tiny import tiny_spirals
from workbench.cli import main
from workbench.data.reading import read_raw
from workbench.data.registry import dataset_options
from workbench.data.sources.bundled import DIABETES_FEATURE_NAMES
from workbench.engine.evaluate import evaluate_checkpoint
from workbench.engine.restore import restore_model
from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment
from workbench.runs.folder import RunDir
from workbench.runs.store import find_run


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def digits(trained_digits: RunDir, monkeypatch: pytest.MonkeyPatch) -> RunDir:
    monkeypatch.setenv("WORKBENCH_HOME", str(trained_digits.path.parents[2]))
    return trained_digits


def _test_images(run: RunDir) -> np.ndarray:
    """The digits test split as stored: uint8 (N, 1, 8, 8), the 0..16 intensities scaled to 0..255."""
    config = run.read_config()
    return read_raw(config.data.dataset, dataset_options(config.data)).test.inputs


def test_predict_on_pngs_of_test_samples_agrees_with_evals_answer_for_them(digits: RunDir, tmp_path: Path, capsys) -> None:
    evaluation = evaluate_checkpoint(digits.best_checkpoint)
    images = _test_images(digits)
    shown = evaluation.examples[:4] + evaluation.worst[:2]  # right and wrong answers
    files = []
    for example in shown:
        files.append(tmp_path / f"sample-{example['index']}.png")
        Image.fromarray(images[example["index"], 0], "L").save(files[-1])
    status, out, err = _cli(capsys, "predict", "latest", *map(str, files), "--json")
    assert (status, err) == (0, "")
    predictions = json.loads(out)["predictions"]
    for example, prediction, file in zip(shown, predictions, files, strict=True):
        assert prediction["source"] == str(file)
        assert prediction["top"][0]["class"] == example["predicted"]
        assert prediction["top"][0]["confidence"] == pytest.approx(example["confidence"], abs=1e-5)
        assert len(prediction["top"]) == 3
    status, out, _ = _cli(capsys, "predict", "latest", str(files[0]), "--top", "2")
    first = shown[0]
    assert status == 0 and out.startswith(f"{files[0]}  {first['predicted']}  {first['confidence']:.1%}  (then ")


def test_a_colour_or_opaque_rgba_image_gets_the_answer_of_its_grey_self(digits: RunDir, tmp_path: Path, capsys) -> None:
    grey = Image.fromarray(_test_images(digits)[7, 0], "L")
    files = [tmp_path / "grey.png", tmp_path / "rgb.jpg", tmp_path / "rgba.png"]
    grey.save(files[0])
    grey.convert("RGB").save(files[1], quality=100, subsampling=0)
    grey.convert("RGBA").save(files[2])
    status, out, _ = _cli(capsys, "predict", "latest", *map(str, files), "--json")
    tops = [p["top"][0] for p in json.loads(out)["predictions"]]
    assert status == 0 and tops[0] == tops[2] and tops[1]["class"] == tops[0]["class"]


def _image(tmp_path: Path, name: str, mode: str, size: tuple[int, int], value: int = 128) -> Path:
    path = tmp_path / name
    Image.new(mode, size, value).save(path)
    return path


def test_an_image_of_another_size_is_refused_unless_resize_is_asked(digits: RunDir, tmp_path: Path, capsys) -> None:
    big = _image(tmp_path, "big.png", "L", (28, 28))
    status, out, err = _cli(capsys, "predict", "latest", str(big))
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {big}: 28x28 pixels, but digits images are 8x8; ") and "pass --resize" in err
    status, out, _ = _cli(capsys, "predict", "latest", str(big), "--resize", "--top", "1")
    assert status == 0 and out.startswith(f"{big}  ")


def _transparent(tmp_path: Path) -> Path:
    image = Image.new("RGBA", (8, 8), (255, 255, 255, 255))
    image.putpixel((3, 3), (0, 0, 0, 0))
    image.save(tmp_path / "transparent.png")
    return tmp_path / "transparent.png"


def _not_an_image(tmp_path: Path) -> Path:
    (tmp_path / "notes.png").write_text("not a picture")
    return tmp_path / "notes.png"


def _rows(tmp_path: Path) -> Path:
    (tmp_path / "rows.csv").write_text("x,y\n1,2\n")
    return tmp_path / "rows.csv"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_transparent, "has transparent pixels, and which background was meant is unknown"),
        (lambda tmp: _image(tmp, "deep.png", "I;16", (8, 8), 3000), "a I;16 image (more than 8 bits per channel)"),
        (_not_an_image, "not a readable image ("),
        (_rows, "not an image file (.png, .jpg"),
        (lambda tmp: tmp / "nowhere.png", "no such file"),
    ],
)
def test_an_image_that_cannot_be_a_digit_is_one_line(digits: RunDir, tmp_path: Path, capsys, make, message: str) -> None:
    path = make(tmp_path)
    status, out, err = _cli(capsys, "predict", "latest", str(path))
    assert status == 1 and out == "" and err.startswith(f"error: {path}: {message}") and err.count("\n") == 1


# ----------------------------------------------------------------------------- rows of numbers


@pytest.fixture(scope="module")
def spirals_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("spirals-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(home))
        Trainer(tiny_spirals()).run()
    return home


def test_csv_rows_in_any_column_order_get_evals_answers(spirals_home: Path, monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("WORKBENCH_HOME", str(spirals_home))
    run = find_run("latest")
    config = run.read_config()
    test = read_raw("spirals", dataset_options(config.data)).test
    rows = tmp_path / "points.csv"
    lines = ["class,y,x"] + [
        f"{label},{y!r},{x!r}" for (x, y), label in zip(test.inputs.tolist(), test.targets.tolist(), strict=True)
    ]
    rows.write_text("\n".join(lines) + "\n")
    status, out, err = _cli(capsys, "predict", "latest", str(rows), "--json")
    predictions = json.loads(out)["predictions"]
    assert (status, err) == (0, "") and len(predictions) == len(test.targets)
    for example in evaluate_checkpoint(run.best_checkpoint).examples:
        prediction = predictions[example["index"]]
        assert prediction["source"] == f"{rows} line {example['index'] + 2}"
        assert prediction["label"] == example["true"]
        assert prediction["top"][0]["class"] == example["predicted"]
        assert prediction["top"][0]["confidence"] == pytest.approx(example["confidence"], abs=1e-5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y,z\n1,2,3\n", "column 'z' is not a feature of spirals; its features: x, y"),
        ("x\n1\n", "no column 'y'; the features of spirals are x, y"),
        ("x,y\n", "no rows under the header"),
        ("x,y\n1,2\n1,oops\n", "line 3, column 'y': 'oops' is not a finite number"),
        ("x,y\n1,2,3\n", "line 2: 3 values, expected 2 like the header"),
    ],
)
def test_rows_with_the_wrong_columns_or_values_are_one_line(
    spirals_home: Path, monkeypatch, tmp_path: Path, capsys, text: str, message: str
) -> None:
    monkeypatch.setenv("WORKBENCH_HOME", str(spirals_home))
    rows = tmp_path / "rows.csv"
    rows.write_text(text)
    status, out, err = _cli(capsys, "predict", "latest", str(rows))
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {rows}") and message in err


def test_a_regression_answer_is_in_the_targets_own_units(tmp_path: Path, capsys) -> None:
    Trainer(load_experiment("diabetes-regression", ["train.epochs=2"])).run()
    run = find_run("latest")
    first = evaluate_checkpoint(run.best_checkpoint).examples[0]  # eval reports standardised outputs
    patients = read_raw("diabetes", {}).test.inputs[:3].tolist()
    rows = tmp_path / "patients.csv"
    rows.write_text(",".join(DIABETES_FEATURE_NAMES) + "\n" + "\n".join(",".join(map(repr, r)) for r in patients) + "\n")
    status, out, _ = _cli(capsys, "predict", "latest", str(rows), "--json")
    values = [p["values"][0] for p in json.loads(out)["predictions"]]
    scale = restore_model(run.best_checkpoint).parts.splits.target_scale
    assert status == 0 and first["index"] == 0 and scale is not None
    assert values[0] == pytest.approx(first["predicted"][0] * scale.std.item() + scale.mean.item(), rel=1e-5)
