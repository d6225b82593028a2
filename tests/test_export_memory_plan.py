"""kws/export/memory_plan.py: buffers share memory only when their lifetimes
do not overlap; raster-order ops may overlap their input by exactly the safe
shift, taken only where it shrinks the arena."""

from __future__ import annotations

from kws.export.c_codegen import raster_overlap
from kws.export.memory_plan import Buffer, Link, plan


def _geometry(**kw: int) -> dict[str, int]:
    base = dict(in_h=10, in_w=20, in_c=8, out_h=10, out_w=20, out_c=8, k_h=1, k_w=1, stride_h=1, stride_w=1,
                pad_h=0, pad_w=0, dil_h=1, dil_w=1)
    return base | kw


def _disjoint(a: Buffer, b: Buffer) -> bool:
    return a.offset + a.size <= b.offset or b.offset + b.size <= a.offset


def test_reuse_only_across_disjoint_lifetimes() -> None:
    buffers = [Buffer("a", 100, 0, 1), Buffer("b", 60, 1, 2), Buffer("c", 100, 2, 3)]
    result = plan(buffers)
    a, b, c = result.buffers
    assert _disjoint(a, b) and _disjoint(b, c)
    assert a.offset == c.offset  # a is dead when c is written
    assert result.arena_bytes == 160


def test_safe_overlap_shifts() -> None:
    assert raster_overlap(_geometry(), 8) == -8                         # 1x1: one pixel behind
    same3x3 = _geometry(k_h=3, k_w=3, pad_h=1, pad_w=1)
    assert raster_overlap(same3x3, 8) == -(20 + 2) * 8                  # one row and two pixels behind
    shrinking = _geometry(out_h=1, out_w=1, k_h=10, k_w=20, out_c=8)    # global pool: writes after all reads
    assert raster_overlap(shrinking, 8) == -8


def test_links_taken_only_where_they_pay() -> None:
    chain = [Buffer("x", 1000, 0, 1), Buffer("y", 1000, 1, 2), Buffer("z", 1000, 2, 3)]
    linked = plan(chain, [Link("x", "y", -40), Link("y", "z", -40)])
    assert linked.arena_bytes == 1080
    x, y, z = linked.buffers
    assert y.offset == x.offset - 40 and z.offset == y.offset - 40

    # x also feeds a late residual add: linking it to y would keep y's memory busy too long.
    residual = [Buffer("x", 1000, 0, 3), Buffer("y", 1000, 1, 2), Buffer("z", 1000, 2, 3), Buffer("w", 1000, 3, 4)]
    unlinked = plan([Buffer(b.name, b.size, b.first, b.last) for b in residual]).arena_bytes
    assert plan(residual, [Link("y", "z", -40)]).arena_bytes <= unlinked
