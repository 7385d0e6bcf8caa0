"""trainers.common.batches: a seeded order per epoch, disjoint equal shards per process, and a
position that a resumed run continues from."""
from __future__ import annotations

import pytest
import torch

from trainers.common.batches import Batches

ITEMS = list(range(10))  # a dataset whose items are their own indices


def drawn(batches: Batches, count: int) -> list[list[int]]:
    return [next(batches).tolist() for _ in range(count)]


def test_each_epoch_is_a_fresh_permutation_named_by_the_seed():
    epochs = [Batches(ITEMS, batch_size=10, seed=3).shard(epoch) for epoch in range(3)]
    assert all(sorted(order) == ITEMS for order in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    assert Batches(ITEMS, batch_size=10, seed=3).shard(1) == epochs[1]
    assert Batches(ITEMS, batch_size=10, shuffle=False).shard(5) == ITEMS


@pytest.mark.parametrize("count, processes", [(10, 2), (7, 2), (10, 3)])
def test_processes_get_disjoint_equal_shards_that_cover_the_data(count, processes):
    shards = [Batches(list(range(count)), 2, seed=1, rank=rank, world_size=processes).shard(0)
              for rank in range(processes)]
    assert len({len(shard) for shard in shards}) == 1, "equal lengths keep DDP's processes in step"
    dealt = [index for shard in shards for index in shard]
    assert set(dealt) == set(range(count))
    assert len(dealt) - count == len(dealt) - len(set(dealt)) < processes  # only the padding repeats


def test_batches_run_across_epochs_with_a_short_last_batch():
    batches = Batches(ITEMS, batch_size=4, seed=0)
    sizes = [len(batch) for batch in drawn(batches, 6)]
    assert sizes == [4, 4, 2, 4, 4, 2]
    assert batches.state_dict() == {"epoch": 1, "position": 3}


@pytest.mark.parametrize("after", [2, 3, 4])  # mid-epoch, at its end, into the next
def test_a_loaded_position_continues_with_the_next_batch(after):
    unbroken = drawn(Batches(ITEMS, batch_size=4, seed=7), 8)
    first = Batches(ITEMS, batch_size=4, seed=7)
    drawn(first, after)
    resumed = Batches(ITEMS, batch_size=4, seed=7)
    resumed.load_state_dict(first.state_dict())
    assert drawn(resumed, 8 - after) == unbroken[after:]


def test_drawing_batches_leaves_the_global_random_stream_alone():
    state = torch.get_rng_state()
    drawn(Batches(ITEMS, batch_size=3, seed=0), 5)
    assert torch.equal(torch.get_rng_state(), state)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        Batches(ITEMS, batch_size=0)
    with pytest.raises(ValueError, match="at least one item"):
        Batches([], batch_size=1)
    with pytest.raises(ValueError, match=r"rank 2 is outside 0 \.\. 1"):
        Batches(ITEMS, batch_size=1, rank=2, world_size=2)
