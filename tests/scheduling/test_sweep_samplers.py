"""The samplers and pruners a sweep's study runs on (:func:`sampler_for`, :func:`pruner_for`):
what they say to the user, and the settings that follow from the sweep."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pytest


@pytest.mark.slow  # a process of its own, which imports torch through Optuna's GP sampler
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


def random_lead(sampler: str, samples: int) -> int:
    """How many of a sweep's first points are random search's own (same seed, same order):
    the learning sampler's random start-up points, before it draws from what it learnt."""
    import optuna

    from workbench.scheduling.sweep_study import sampler_for, suggest
    from workbench.schema.sweep import SweepSpec, parse_axis

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    axes = (parse_axis("optimizer.lr=log-uniform:1e-3:1e-1"), parse_axis("optimizer.momentum=uniform:0.8:0.99"))
    drawn = []
    for spec in (SweepSpec(axes, samples=samples, sampler=sampler), SweepSpec(axes, samples=samples, sampler="random")):
        study = optuna.create_study(sampler=sampler_for(spec))
        points = []
        for _ in range(samples):
            trial = study.ask()
            point = [suggest(trial, axis, False) for axis in axes]
            study.tell(trial, abs(math.log10(float(point[0])) + 2) + abs(float(point[1]) - 0.9))  # best at lr 0.01, 0.9
            points.append(point)
        drawn.append(points)
    learning, random = drawn
    return next((n for n, (a, b) in enumerate(zip(learning, random, strict=True)) if a != b), samples)


def test_a_short_tpe_sweep_learns_after_a_tenth_of_its_points_not_after_optunas_ten() -> None:
    assert random_lead("tpe", 8) == 2  # Optuna's 10 start-up points: all 8 were random search's
    assert random_lead("tpe", 36) == 4


def test_the_median_pruner_judges_no_point_on_its_first_epoch() -> None:
    import optuna

    from workbench.scheduling.sweep_study import pruner_for
    from workbench.schema.sweep import SweepSpec, parse_axis

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = SweepSpec((parse_axis("optimizer.lr=log-uniform:1e-3:1e-1"),), samples=8, pruner="median")
    study = optuna.create_study(pruner=pruner_for(spec))
    for value in (0.3, 0.4):  # two points that started fast
        trial = study.ask()
        trial.report(value, 1)
        trial.report(value, 2)
        study.tell(trial, value)
    slow = study.ask()  # a high learning rate: the worst after one epoch, the best after two
    slow.report(1.1, 1)
    assert not slow.should_prune()
    slow.report(0.2, 2)
    assert not slow.should_prune()
    late = study.ask()  # worse than the median at its 2nd epoch: stopped there
    late.report(1.1, 1)
    late.report(0.9, 2)
    assert late.should_prune()
