"""Compiled loops of item-knn: its similarities, block by block, and its scoring: each target's
neighbour list, most similar first, read until the user's first k rated movies in it are found.

A loop that stops at the k-th hit is what the definition asks for, and numpy cannot stop early:
the same walk in array passes read every list to its end (about 16 ns an entry on ml-latest-small,
against about 3 ns here). The functions take plain arrays, release the GIL, and are compiled once
per machine (cached beside this file when the folder is writable).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _first_k(starts, neighbour, sim, target, position, residuals, k):  # pragma: no cover - compiled
    """Similarity sum and similarity-weighted residual sum over the first k entries of `target`'s
    list that the user rated (`position[m]`: index of movie m in `residuals`, -1 if not rated)."""
    found, weight, total = 0, 0.0, 0.0
    for e in range(starts[target], starts[target + 1]):
        p = position[neighbour[e]]
        if p >= 0:
            weight += sim[e]
            total += sim[e] * residuals[p]
            found += 1
            if found == k:
                break
    return weight, total


@njit(cache=True, nogil=True)
def user_terms(column_starts, column_targets, column_sim, starts, neighbour, sim, rated, residuals, k, damping,
               out):  # pragma: no cover - compiled
    """One user's neighbourhood term of every movie into `out`. The lists by neighbour (CSC:
    column m holds the targets that have movie m as a candidate) give each target's rated
    candidates in one pass over the rated movies; a target with more than k of them walks its
    list, most similar first, to the k-th. The term is sum(sim * residual) / (sum(sim) + damping)."""
    n = out.size
    count = np.zeros(n, np.int64)
    weight = np.zeros(n)
    total = np.zeros(n)
    position = np.full(n, -1, np.int64)
    for r in range(rated.size):
        m = rated[r]
        position[m] = r
        for e in range(column_starts[m], column_starts[m + 1]):
            t = column_targets[e]
            count[t] += 1
            weight[t] += column_sim[e]
            total[t] += column_sim[e] * residuals[r]
    for t in range(n):
        if count[t] > k:
            weight[t], total[t] = _first_k(starts, neighbour, sim, t, position, residuals, k)
        out[t] = total[t] / (weight[t] + damping) if weight[t] > 0 else 0.0


@njit(cache=True, nogil=True)
def pair_terms(starts, neighbour, sim, users, items, indptr, indices, residuals, k, n_items, damping,
               out):  # pragma: no cover - compiled
    """For (user, item) pairs sorted by user, with the users' training rows in CSR form (indptr,
    indices, residuals): each pair's neighbourhood term, sum(sim * residual) / (sum(sim) + damping) over
    the first k rated entries of the item's list (0 when there is none), into out[i]."""
    position = np.full(n_items, -1, np.int64)
    current = -1
    for i in range(users.size):
        u = users[i]
        if u != current:
            if current >= 0:
                for j in range(indptr[current], indptr[current + 1]):
                    position[indices[j]] = -1
            for j in range(indptr[u], indptr[u + 1]):
                position[indices[j]] = j
            current = u
        weight, total = _first_k(starts, neighbour, sim, items[i], position, residuals, k)
        out[i] = total / (weight + damping) if weight > 0 else 0.0


@njit(cache=True, nogil=True)
def pearson_block(col_ptr, col_users, col_res, row_ptr, row_items, row_res, start, stop, shrinkage,
                  out):  # pragma: no cover - compiled
    """Shrunk Pearson-baseline similarities of targets start..stop-1 with every movie, into the
    rows of `out` (zeros where two movies share no user). Per target, one pass over its raters'
    rows sums the four terms over the users the two movies share: residual products, the count,
    and the squared residuals of each side; movies are columns of the residual matrix (col_*:
    by movie, row_*: by user, the same movies' indices)."""
    n = out.shape[1]
    product, count = np.zeros(n), np.zeros(n, np.int64)
    square_t, square_j = np.zeros(n), np.zeros(n)
    touched = np.empty(n, np.int64)
    for t in range(start, stop):
        seen = 0
        for e in range(col_ptr[t], col_ptr[t + 1]):
            u, r_t = col_users[e], col_res[e]
            for f in range(row_ptr[u], row_ptr[u + 1]):
                j, r_j = row_items[f], row_res[f]
                if count[j] == 0:
                    touched[seen] = j
                    seen += 1
                product[j] += r_t * r_j
                count[j] += 1
                square_t[j] += r_t * r_t
                square_j[j] += r_j * r_j
        row = out[t - start]
        for s in range(seen):
            j = touched[s]
            denominator = np.sqrt(square_t[j] * square_j[j])
            shrunk = max(count[j] - 1, 0)
            if denominator > 0:
                row[j] = product[j] / denominator * shrunk / (shrunk + shrinkage + 1e-12)
            product[j], count[j], square_t[j], square_j[j] = 0.0, 0, 0.0, 0.0
