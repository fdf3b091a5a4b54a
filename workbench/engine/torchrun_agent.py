"""torchrun's agent, as Workbench starts it: one line, not a traceback, when a signal stops it.

``python -m workbench.engine.torchrun_agent ARGS`` is ``torchrun ARGS``. When the agent itself
is signalled (Slurm ending a job, ``kill`` of the agent, an SSH session's hangup in the
foreground), torchrun stops its workers (each saves a checkpoint and marks the run stopped, as
for one process) and then raises ``SignalException`` out of its main, which Python prints as a
traceback into the run's log. Here that ends as one line and the signal's exit status; every
other failure (a worker that failed: torchrun's own report of it) is left as torchrun tells it.
"""

from __future__ import annotations

import signal
import sys


def main(argv: list[str]) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.run import main as torchrun

    try:
        torchrun(argv)
    except SignalException as stopped:
        name = signal.Signals(stopped.sigval).name
        print(f"torchrun: stopped by {name}; its workers were stopped with it", file=sys.stderr, flush=True)
        return 128 + int(stopped.sigval)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
