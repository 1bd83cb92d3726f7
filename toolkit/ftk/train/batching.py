"""Batches of rows of similar length, so that padding to the longest row in a batch wastes little.

transformers' `LengthGroupedSampler` sorts by length only inside mega-batches of
`min(rows // (4 * batch), 50)` batches (6 batches on the 108-row sample: 93% of the padded tokens are
real) and then swaps the longest row of the epoch into the first batch, which breaks that batch's
grouping. `LengthBucketSampler` sorts inside buckets of up to `bucket_batches` batches (64: the whole
sample, 98% real tokens) and shuffles the order of the full batches, so an epoch still visits lengths
in a random order; ties are broken at random, and the one short batch, if any, comes last (the data
loader cuts the index stream into batches of `batch_size`, so it must not sit in the middle).

The order depends only on the seed and the epoch (`set_epoch`, called by the trainer every epoch), so
a run resumed mid-epoch sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from torch.utils.data import Sampler


class LengthBucketSampler(Sampler[int]):
    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int = 0, bucket_batches: int = 64):
        if batch_size < 1 or bucket_batches < 1:
            raise ValueError("batch_size and bucket_batches must be positive")
        self.lengths, self.batch_size, self.seed = list(lengths), batch_size, seed
        self.bucket = batch_size * bucket_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 1_000_003 + self.epoch)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)  # random rows per bucket, random ties within a length
        full, short = [], []
        for start in range(0, len(order), self.bucket):
            bucket = sorted(order[start:start + self.bucket], key=self.lengths.__getitem__)
            for i in range(0, len(bucket), self.batch_size):
                (full if len(bucket[i:i + self.batch_size]) == self.batch_size else short).append(
                    bucket[i:i + self.batch_size])
        rng.shuffle(full)
        return full + short  # only the last bucket can leave a short batch

    def __iter__(self) -> Iterator[int]:
        return (i for batch in self.batches() for i in batch)


def padded_share(lengths: Sequence[int], batches: list[list[int]]) -> float:
    """Real tokens / padded tokens when every batch is padded to its longest row."""
    real = sum(lengths[i] for b in batches for i in b)
    slots = sum(max(lengths[i] for i in b) * len(b) for b in batches if b)
    return real / slots if slots else 1.0
