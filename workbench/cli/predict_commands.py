"""``workbench predict RUN FILE...``: a trained model's answers for a person's own files.

Images (PNG, JPEG, ...) for image datasets, CSV files of rows for tabular ones; one line per
sample with the likeliest classes and their confidence (or the predicted values), or ``--json``.
The preparation of the files and the answers are :mod:`workbench.engine.predict`'s.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from workbench.cli.code_trust import add_trust_argument, use_run_code_here
from workbench.cli.export_commands import RUN_HELP
from workbench.errors import DataError


def register(sub: argparse._SubParsersAction) -> None:
    predict = sub.add_parser("predict", help="a run's predictions, with confidence, for your own images or CSV rows")
    predict.add_argument("run", metavar="RUN", help=RUN_HELP)
    predict.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        help="images (image datasets) or CSV files with a header naming the dataset's feature columns (tabular ones)",
    )
    predict.add_argument(
        "--checkpoint", help="best, last, an epoch (5 or epoch-5), or a file (default: the one the run's test used)"
    )
    predict.add_argument("--top", type=int, default=3, metavar="K", help="classes shown per sample, likeliest first (default 3)")
    predict.add_argument(
        "--resize",
        action="store_true",
        help="resize images whose size differs from the dataset's fixed size (refused without it: "
        "the model never saw such pictures); image-folder runs always resize, as in training",
    )
    predict.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the run's train.device)")
    predict.add_argument("--json", action="store_true", help="print the predictions as JSON")
    add_trust_argument(predict)
    predict.set_defaults(handler=predict_command)


def predict_command(args: argparse.Namespace, console: Console) -> int:
    from workbench.engine.predict import Predictor
    from workbench.runs.checkpoints import resolve_checkpoint
    from workbench.runs.store import find_run

    run = find_run(args.run)
    files = [Path(name).expanduser() for name in args.files]
    missing = next((f for f in files if not f.exists()), None)
    if missing is not None:  # before the model and its data are loaded
        raise DataError(f"{missing}: no such file")
    use_run_code_here(run, args.trust_code)
    predictor = Predictor.from_checkpoint(resolve_checkpoint(run, args.checkpoint), device=args.device)
    predictions = predictor.predict(files, top=args.top, resize=args.resize)
    if args.json:
        console.print_json(json.dumps({"run": run.id, "predictions": [p.to_dict() for p in predictions]}))
        return 0
    for prediction in predictions:
        console.print(prediction.text(), markup=False, highlight=False, soft_wrap=True)
    return 0
