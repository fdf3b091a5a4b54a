"""The samplers and pruners a sweep's study runs on (:func:`sampler_for`, :func:`pruner_for`):
what they say to the user, and the settings that follow from the sweep."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_gp_sampler_says_nothing_about_a_missing_optional_package() -> None:
    # In a process of its own: Optuna logs it once, when its GP module is first imported.
    script = textwrap.dedent(
        """
        import optuna
        from workbench.scheduling.sweep_study import sampler_for
        from workbench.schema.sweep import SweepSpec, parse_axis

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # as the feeder's study storage sets it
        spec = SweepSpec((parse_axis("optimizer.lr=log-uniform:1e-3:1e-1"),), samples=12, sampler="gp")
        study = optuna.create_study(sampler=sampler_for(spec))
        study.optimize(lambda trial: (trial.suggest_float("x", 0.0, 1.0) - 0.3) ** 2, n_trials=12)
        print(len(study.trials))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0 and done.stdout.split() == ["12"], done.stderr
    assert done.stderr == ""  # it asked its GP past its random start-up points, and nothing was printed
