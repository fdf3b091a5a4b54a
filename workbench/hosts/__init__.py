"""Runs on other machines, reached over the system's SSH: no server, no open port.

The far side is the ``workbench`` command of the other machine, with ``--json`` output (its
producers are :mod:`workbench.hosts.far`). The near side keeps a MIRROR of each host's runs in
local folders (:mod:`workbench.hosts.mirror`), so everything that reads a run folder (listing,
follower, history, compare) reads a remote run unchanged. :mod:`workbench.hosts.session` keeps a
mirror current over one multiplexed SSH connection per host (:mod:`workbench.hosts.ssh`).
"""
