"""Dask modalities, block by block: the one place skmm computes lazy data.

A :class:`~skmm.MultiModalData` whose modalities are Dask arrays (``X.lazy``) is cut
into row blocks, the same rows in every modality (:func:`row_blocks`). A fit reads it
as a sum over blocks (:func:`map_blocks`: one task per block, on whatever scheduler is
active: threads, processes or a ``dask.distributed`` cluster; only the per-block
results travel); inference returns lazy arrays computed block by block
(:func:`lazy_rows`). Dask is imported only here, and only for lazy data.
"""

from typing import NamedTuple

import numpy as np

from .._data import MultiModalData, is_dask_array

__all__ = ["RowBlocks", "iter_blocks", "lazy_rows", "map_blocks", "row_blocks",
           "take_rows"]


class RowBlocks(NamedTuple):
    """The modalities of a lazy container cut into the same row blocks.

    bounds : int ndarray (n_blocks + 1,)
        Block ``i`` holds rows ``bounds[i]:bounds[i + 1]``.
    arrays : list of dask.array.Array
        The modalities, every one with these row blocks and one column block.
    """

    bounds: np.ndarray
    arrays: list

    def slices(self):
        return [slice(int(a), int(b)) for a, b in zip(self.bounds[:-1], self.bounds[1:])]


def row_blocks(X):
    """:class:`RowBlocks` of ``X``: the row blocks of its first Dask modality, to which
    the other modalities (in-memory ones too) are cut."""
    import dask.array as da

    rows = next(a.chunks[0] for a in X.values() if is_dask_array(a))
    arrays = [
        a.rechunk({0: rows, 1: -1}) if is_dask_array(a)
        else da.from_array(a, chunks=(rows, -1))
        for a in X.values()
    ]
    return RowBlocks(np.concatenate([[0], np.cumsum(rows)]), arrays)


def map_blocks(func, blocks, *per_block, shared=()):
    """``[func(*block_arrays, *per_block[i], *shared) for each block i]``, computed.

    ``per_block`` are sequences with one entry per block (e.g. slices of the observed
    mask); ``shared`` are small objects every call gets (e.g. the parameters). Every
    call is one task of one computation, so the scheduler runs blocks in parallel and
    reads each block once.
    """
    import dask

    shared = [dask.delayed(s) for s in shared]  # one copy in the graph, not per task
    columns = [a.to_delayed().ravel() for a in blocks.arrays]
    tasks = [
        dask.delayed(func)(*arrays, *extra, *shared)
        for arrays, *extra in zip(zip(*columns), *per_block)
    ]
    return list(dask.compute(*tasks))


def take_rows(X, rows):
    """In-memory arrays of the ``rows`` (sorted indices, or a slice) of every modality
    of the lazy ``X``, in one computation (each block read once)."""
    import dask

    return list(dask.compute(*[a[rows] for a in X.values()]))


def iter_blocks(X):
    """Yield ``(start, block)`` for the row blocks of the lazy ``X`` in order: ``block``
    an in-memory :class:`~skmm.MultiModalData` of rows ``start:...`` (not validated),
    each computed when its turn comes (one computation for all its modalities)."""
    import dask

    blocks = row_blocks(X)
    columns = [a.to_delayed().ravel() for a in blocks.arrays]
    for sl, arrays in zip(blocks.slices(), zip(*columns)):
        values = dask.compute(*arrays)
        yield sl.start, MultiModalData(dict(zip(X.modalities, values)),
                                       feature_names=X.feature_names)


def lazy_rows(func, X, width, dtype):
    """A lazy ``(n_samples, width)`` array (``width=None``: ``(n_samples,)``) whose
    block of rows ``start:stop`` is ``func(block, start)``, ``block`` a
    :class:`~skmm.MultiModalData` of those rows of ``X`` (in memory, not validated)."""
    import dask.array as da

    blocks = row_blocks(X)
    names, feature_names = X.modalities, X.feature_names

    def compute(*arrays, block_info=None):
        start = block_info[None]["array-location"][0][0]
        block = MultiModalData(dict(zip(names, arrays)), feature_names=feature_names)
        return func(block, start)

    chunks = (blocks.arrays[0].chunks[0],) + (() if width is None else ((width,),))
    return da.map_blocks(
        compute, *blocks.arrays, dtype=dtype, chunks=chunks,
        drop_axis=1 if width is None else None, meta=np.empty((0,) * len(chunks), dtype),
    )
