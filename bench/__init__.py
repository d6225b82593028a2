"""kws benchmarks (`make bench`): one module per area, run by ``bench.runner``.

Not part of the kws package: benchmarks read ``../shared`` beside the
checkout (real clips, peer models), which a user's machine does not have.
"""
