"""Tests for hal.coordinates.neurons: denmems, quads, neuron blocks and floating-gate blocks.

Expected numbers come from /work/shared/HARDWARE_FACTS.md and halco (neuron.cpp).
"""

from __future__ import annotations

import collections

from hal.coordinates import (
    FGBlockOnHICANN,
    FGCellOnFGBlock,
    FGRowOnFGBlock,
    NeuronBlockOnHICANN,
    NeuronOnHICANN,
    QuadOnHICANN,
    SynapseColumnOnHICANN,
)

# ---------------------------------------------------------------------------
# Neurons and floating gates
# ---------------------------------------------------------------------------


def test_neuron_basics():
    n = NeuronOnHICANN(3, 1)
    assert n.enum == 259 and n.column == 3 and n.half == "bottom" and not n.is_top
    assert NeuronOnHICANN(0, 0).half == "top" and NeuronOnHICANN(0, 0).is_top
    assert n.to_quad() == QuadOnHICANN(1)
    assert NeuronOnHICANN(255, 0).to_neuron_block() == NeuronBlockOnHICANN(7)
    assert n.to_synapse_column() == SynapseColumnOnHICANN(3)


def test_quads_and_blocks_partition_the_neurons():
    assert sorted(n for q in QuadOnHICANN.all() for n in q.neurons()) == list(NeuronOnHICANN.all())
    for q in QuadOnHICANN.all():
        assert all(n.to_quad() == q for n in q.neurons())
        assert q.to_neuron_block() == q.neurons()[0].to_neuron_block()
    blocks = [b.neurons() for b in NeuronBlockOnHICANN.all()]
    assert all(len(b) == 64 for b in blocks)
    assert sorted(n for b in blocks for n in b) == list(NeuronOnHICANN.all())
    for b in NeuronBlockOnHICANN.all():
        assert all(n.to_neuron_block() == b for n in b.neurons())
        assert b.to_background_generator().to_neuron_block() == b


def test_fg_block_enum_order():
    assert [(b.x, b.y) for b in FGBlockOnHICANN.all()] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert [(b.side, b.half) for b in FGBlockOnHICANN.all()] == [
        ("left", "top"), ("right", "top"), ("left", "bottom"), ("right", "bottom")]  # fmt: skip


def test_neuron_to_fg_block_and_column_is_a_partition():
    used = collections.Counter()
    for n in NeuronOnHICANN.all():
        block = n.to_fg_block()
        assert block.enum == n.enum // 128
        assert 1 <= n.fg_column() <= 128
        used[(block, n.fg_column())] += 1
    assert len(used) == 4 * 128 and set(used.values()) == {1}
    assert NeuronOnHICANN(0, 0).to_fg_block() == FGBlockOnHICANN(0, 0)
    assert NeuronOnHICANN(128, 0).to_fg_block() == FGBlockOnHICANN(1, 0)
    assert NeuronOnHICANN(127, 1).to_fg_block() == FGBlockOnHICANN(0, 1)
    assert NeuronOnHICANN(255, 1).fg_column() == 128
    for b in FGBlockOnHICANN.all():
        assert [n.fg_column() for n in b.neurons()] == list(range(1, 129))
        assert all(n.to_fg_block() == b for n in b.neurons())


def test_shared_fg_block_by_parity_and_half():
    counts = collections.Counter(n.to_shared_fg_block() for n in NeuronOnHICANN.all())
    assert counts == {b: 128 for b in FGBlockOnHICANN.all()}
    assert NeuronOnHICANN(4, 0).to_shared_fg_block() == FGBlockOnHICANN(0, 0)
    assert NeuronOnHICANN(5, 1).to_shared_fg_block() == FGBlockOnHICANN(1, 1)


def test_fg_cells():
    assert FGCellOnFGBlock(0, 0).is_shared and not FGCellOnFGBlock(0, 1).is_shared
    assert FGCellOnFGBlock(23, 128).enum == FGCellOnFGBlock.size - 1
    assert FGCellOnFGBlock(5, 7).to_row() == FGRowOnFGBlock(5)
