"""Static memory plan for runtime ``c``: every activation and scratch buffer
gets a fixed offset in one arena, reusing memory between buffers whose
lifetimes do not overlap.

Lifetimes are in op steps: a buffer lives from the op that writes it to the
last op that reads it (model inputs from step 0, model outputs to the end).
Placement is greedy first-fit by decreasing size, the strategy of TFLM's
GreedyMemoryPlanner.

One step further than TFLM: when an op's input dies at that op and the kernel
walks its output in the same raster order as its input, the output may
overlap the input, shifted down far enough that no byte is overwritten before
its last read (``Link``). Chains of such ops share one block, so a DS-CNN
needs little more than its largest activation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

ALIGNMENT = 4  # word access for the SIMD loads; nothing needs more


@dataclass
class Buffer:
    """One planned buffer; ``offset`` is set by ``plan``."""

    name: str
    size: int
    first: int
    last: int
    offset: int = -1

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class Link:
    """``output`` may start at most ``max_delta`` bytes after ``source`` starts."""

    source: str
    output: str
    max_delta: int


@dataclass(frozen=True)
class MemoryPlan:
    buffers: tuple[Buffer, ...]
    arena_bytes: int


def _aligned(n: int) -> int:
    return -(-n // ALIGNMENT) * ALIGNMENT


def first_fit(blocks: list[Buffer], key: Callable[[Buffer], Any] = lambda b: (-b.size, b.first, b.name)) -> None:
    """Place ``blocks`` in ``key`` order (largest first by default), each at the
    lowest offset clear of the placed blocks that live at the same time."""
    placed: list[Buffer] = []
    for block in sorted(blocks, key=key):
        busy = sorted((p.offset, p.offset + _aligned(p.size)) for p in placed if p.overlaps_in_time(block))
        offset = 0
        for start, end in busy:
            if offset + block.size <= start:
                break
            offset = max(offset, end)
        block.offset = offset
        placed.append(block)


def plan(buffers: list[Buffer], links: list[Link] | tuple[Link, ...] = ()) -> MemoryPlan:
    """Assign offsets with all links, then drop each link whose removal does
    not grow the arena: a linked block lives as long as its longest member,
    which can cost more than the overlap saves (e.g. around a residual add),
    while a chain of links only pays off as a whole."""
    taken = list(links)
    best = _place(buffers, taken).arena_bytes
    for link in links:
        trial = [t for t in taken if t is not link]
        arena = _place(buffers, trial).arena_bytes
        if arena <= best:
            taken, best = trial, arena
    return _place(buffers, taken)


def _place(buffers: list[Buffer], links: list[Link]) -> MemoryPlan:
    """Assign offsets; linked buffers move as one block. The arena is the high-water mark."""
    step = {link.output: (link.source, min(link.max_delta, 0) // ALIGNMENT * ALIGNMENT) for link in links}
    members: dict[str, list[tuple[Buffer, int]]] = {}
    for buf in buffers:
        name, relative = buf.name, 0
        while name in step:
            source, delta = step[name]
            name, relative = source, relative + delta
        members.setdefault(name, []).append((buf, relative))
    blocks = []
    for root, group in members.items():
        low = min(rel for _, rel in group)
        high = max(rel + b.size for b, rel in group)
        blocks.append(Buffer(root, high - low, min(b.first for b, _ in group), max(b.last for b, _ in group)))
    first_fit(blocks)
    for block in blocks:
        group = members[block.name]
        low = min(rel for _, rel in group)
        for buf, rel in group:
            buf.offset = block.offset + rel - low
    arena = max((_aligned(b.offset + b.size) for b in buffers), default=0)
    return MemoryPlan(tuple(buffers), arena)
