"""The queue as files: order, moves, cancels, a damaged file kept and named, and claims that make
each entry start once even when its feeder dies half-way. Torch-free: no process is started."""

from __future__ import annotations

import pytest

from workbench.experiment.presets import load_experiment
from workbench.runs.store import create_run
from workbench.scheduling import queue
from workbench.scheduling.feeder import free_gpu


def enqueue(name: str, **tags: object) -> queue.QueueEntry:
    config = load_experiment("digits-mlp")
    config.name = name
    return queue.enqueue(config, **tags)  # type: ignore[arg-type]


def names() -> list[str]:
    return [e.name for e in queue.read_queue().entries]


def test_entries_wait_in_the_order_they_came_and_keep_their_experiment() -> None:
    first, _, _ = enqueue("a"), enqueue("b"), enqueue("c")
    assert names() == ["a", "b", "c"]
    assert first.experiment().optimizer.lr == load_experiment("digits-mlp").optimizer.lr


def test_an_entry_moves_up_down_and_to_the_top_or_bottom() -> None:
    _, b, c = enqueue("a"), enqueue("b"), enqueue("c")
    queue.move(c.id, "up")
    assert names() == ["a", "c", "b"]
    queue.move(c.id, "top")
    assert names() == ["c", "a", "b"]
    queue.move(c.id, "down")
    assert names() == ["a", "c", "b"]
    queue.move(b.id, "up")
    queue.move(c.id, "bottom")
    assert names() == ["a", "b", "c"]
    queue.move(c.id, "down")  # already last: stays
    assert names() == ["a", "b", "c"]
    with pytest.raises(queue.QueueError, match="nothing queued matches 'zzz'"):
        queue.move("zzz", "up")


def test_cancelling_takes_an_entry_or_a_sweeps_points_out_and_nothing_else() -> None:
    a = enqueue("a")
    enqueue("p1", sweep="s1", point=1)
    enqueue("p2", sweep="s1", point=2)
    assert [e.name for e in queue.cancel("s1")] == ["p1", "p2"]
    assert names() == ["a"]
    queue.cancel(a.id)
    assert names() == []
    with pytest.raises(queue.QueueError, match="nothing queued matches"):
        queue.cancel(a.id)


def test_an_entry_being_started_cannot_also_be_cancelled() -> None:
    entry = enqueue("a")
    assert queue.claim(entry)
    with pytest.raises(queue.QueueError, match="nothing queued matches"):
        queue.cancel(entry.id)
    assert not queue.claim(entry)  # and a cancelled one cannot be started
    other = enqueue("b")
    queue.cancel(other.id)
    assert not queue.claim(other)


def test_a_damaged_queue_file_is_named_kept_and_skipped() -> None:
    enqueue("a")
    broken = queue.waiting_dir() / "torn.json"
    broken.write_bytes(b'{"id": "torn", "ord')
    listing = queue.read_queue()
    assert [e.name for e in listing.entries] == ["a"]
    (damaged,) = listing.damaged
    assert damaged.path == broken and "not JSON" in damaged.text() and damaged.text().endswith("kept and skipped")
    assert broken.read_bytes() == b'{"id": "torn", "ord'


def test_a_dead_feeders_claims_go_back_in_line_unless_their_run_was_made() -> None:
    started, lost = enqueue("started"), enqueue("lost")
    assert queue.claim(started) and queue.claim(lost)
    create_run(started.experiment(), queue_entry=started.id)  # the feeder died after making this run
    assert queue.recover_claims() == [lost.id]
    assert names() == ["lost"]
    assert not (queue.queue_dir() / queue.CLAIMED / f"{started.id}.json").exists()


def test_settings_keep_what_is_not_changed_and_refuse_no_slots() -> None:
    queue.write_settings(parallel=2)
    queue.write_settings(notify="echo done")
    assert queue.read_settings() == queue.QueueSettings(2, "echo done")
    with pytest.raises(Exception, match="--parallel 0: give 1 or more"):
        queue.write_settings(parallel=0)
    (queue.queue_dir() / queue.SETTINGS).write_text("{damaged")
    assert queue.read_settings() == queue.QueueSettings()


def test_one_run_per_gpu_each_on_a_gpu_of_its_own() -> None:
    assert queue.slot_count(queue.QueueSettings(), 0) == 1 and queue.slot_count(queue.QueueSettings(), 4) == 4
    assert queue.slot_count(queue.QueueSettings(parallel=2), 4) == 2
    assert free_gpu(1, set()) == "" and free_gpu(0, set()) == ""
    assert free_gpu(3, {"cuda:0"}) == "cuda:1" and free_gpu(2, {"cuda:0", "cuda:1"}) == ""
