"""Keras' training step for the dot-product models, compiled: the same loss, gradients and
row-sparse Adam as `KerasRecommender` under Keras' `fit`, without its graph.

The score is p_u . q_i + b_u + b_i (the biases are absent for plain MF). Per batch of B ratings
the loss is Keras' for these models:

    mean over the batch of the rating loss (squared error on the centred rating, or binary
    cross-entropy with logits on the min-max scaled rating)
    + l2 / B * sum over the batch of |p_u|^2 + |q_i|^2 + b_u^2 + b_i^2

(the embeddings' activity regulariser, which Keras divides by the batch size). Gradients reach
only the rows in the batch, summed per row, and `LazyAdam`'s update touches only those rows.
Everything is float32, as in Keras. One call runs a slice of an epoch's shuffled order, so the
caller reads its stop flag between calls; `nogil` lets a blend fit its other parts beside it.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras' Adam defaults


@njit(cache=True, nogil=True, fastmath=True)
def _adam_row(row, grad, m, v, alpha):
    """Adam on one row of a table (and its moments) from its summed gradient; zeroes the gradient."""
    for f in range(row.shape[0]):
        g = grad[f]
        m[f] = BETA_1 * m[f] + (1.0 - BETA_1) * g
        v[f] = BETA_2 * v[f] + (1.0 - BETA_2) * g * g
        row[f] -= alpha * m[f] / (np.sqrt(v[f]) + EPSILON)
        grad[f] = 0.0


@njit(cache=True, nogil=True, fastmath=True)
def _update_rows(rows, count, touched, table, grad, m, v, bias, bias_grad, bias_m, bias_v, has_biases, alpha,
                 non_negative):
    """Adam on the first `count` rows listed in `rows` (and their biases), clearing their marks;
    the non-negative constraint clips the updated rows (the only ones that changed)."""
    for n in range(count):
        r = rows[n]
        touched[r] = 0
        _adam_row(table[r], grad[r], m[r], v[r], alpha)
        if has_biases:
            _adam_row(bias[r], bias_grad[r], bias_m[r], bias_v[r], alpha)
        if non_negative:
            for f in range(table.shape[1]):
                table[r, f] = max(table[r, f], 0.0)


@njit(cache=True, nogil=True, fastmath=True)
def train_batches(users, items, targets, order, start, stop, batch_size, tables, moments, grads, touched_users,
                  touched_items, learning_rate, l2, step, sigmoid, has_biases, non_negative):
    """Train on order[start:stop] in batches of `batch_size`; returns (the batches' losses, each
    times its batch size, summed; the Adam step count after the last batch).

    `tables` = (P, Q, bu, bi) with the biases as (n, 1) float32 (empty when `has_biases` is
    False); `moments` = (mP, vP, mQ, vQ, mbu, vbu, mbi, vbi) shaped alike; `grads` = zeroed
    scratch tables (gP, gQ, gbu, gbi); `touched_users`/`touched_items` zeroed int8 marks."""
    P, Q, bu, bi = tables
    mP, vP, mQ, vQ, mbu, vbu, mbi, vbi = moments
    gP, gQ, gbu, gbi = grads
    k = P.shape[1]
    user_rows = np.empty(batch_size, dtype=np.int64)
    item_rows = np.empty(batch_size, dtype=np.int64)
    total = 0.0
    for first in range(start, stop, batch_size):
        last = min(first + batch_size, stop)
        size = last - first
        shrink = np.float32(2.0 * l2 / size)
        n_users, n_items = 0, 0
        loss = 0.0
        for n in range(first, last):
            r = order[n]
            u, i = users[r], items[r]
            p, q = P[u], Q[i]
            score = np.float32(0.0)
            penalty = np.float32(0.0)
            for f in range(k):
                score += p[f] * q[f]
                penalty += p[f] * p[f] + q[f] * q[f]
            if has_biases:
                score += bu[u, 0] + bi[i, 0]
                penalty += bu[u, 0] * bu[u, 0] + bi[i, 0] * bi[i, 0]
            y = targets[r]
            if sigmoid:  # binary cross-entropy with logits, and its derivative
                loss += max(score, 0.0) - score * y + np.log1p(np.exp(-abs(score)))
                d = np.float32((1.0 / (1.0 + np.exp(-score)) - y) / size)
            else:
                loss += (score - y) * (score - y)
                d = np.float32(2.0 * (score - y) / size)
            loss += l2 * penalty
            gp, gq = gP[u], gQ[i]
            for f in range(k):
                gp[f] += d * q[f] + shrink * p[f]
                gq[f] += d * p[f] + shrink * q[f]
            if has_biases:
                gbu[u, 0] += d + shrink * bu[u, 0]
                gbi[i, 0] += d + shrink * bi[i, 0]
            if touched_users[u] == 0:
                touched_users[u] = 1
                user_rows[n_users] = u
                n_users += 1
            if touched_items[i] == 0:
                touched_items[i] = 1
                item_rows[n_items] = i
                n_items += 1
        step += 1
        alpha = np.float32(learning_rate * np.sqrt(1.0 - BETA_2 ** step) / (1.0 - BETA_1 ** step))
        _update_rows(user_rows, n_users, touched_users, P, gP, mP, vP, bu, gbu, mbu, vbu, has_biases, alpha,
                     non_negative)
        _update_rows(item_rows, n_items, touched_items, Q, gQ, mQ, vQ, bi, gbi, mbi, vbi, has_biases, alpha,
                     non_negative)
        total += loss
    return total, step
