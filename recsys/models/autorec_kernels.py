"""I-AutoRec's forward and backward passes over the observed ratings only.

The network reads a movie's dense column of ratings (0 where missing) and its loss counts the
observed entries only, so both passes can skip the zeros exactly: the encoder's input product
and its weight gradient touch only the rated (movie, user) cells, and the decoder's output is
needed, and has a gradient, only there. One epoch costs O(ratings x hidden) instead of
O(movies x users x hidden) for the dense network, with the same model and loss. Compiled with
numba; `nogil` lets a blend fit it beside its other parts.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath=True)
def encode(indptr, users, values, rows, w_in, b_in):
    """Sigmoid codes of the movies `rows`: sigmoid(x @ w_in + b_in) over each movie's ratings."""
    hidden = w_in.shape[1]
    codes = np.empty((rows.shape[0], hidden), dtype=np.float32)
    for r in range(rows.shape[0]):
        code = codes[r]
        code[:] = b_in
        movie = rows[r]
        for j in range(indptr[movie], indptr[movie + 1]):
            value, weights = values[j], w_in[users[j]]
            for h in range(hidden):
                code[h] += value * weights[h]
        for h in range(hidden):
            code[h] = 1.0 / (1.0 + np.exp(-code[h]))
    return codes


@njit(cache=True, nogil=True, fastmath=True)
def decode_at(codes, code_rows, users, w_out_t, b_out):
    """The reconstruction at the cells (movie code_rows[n], user users[n]) only; `w_out_t` is the
    decoder's kernel transposed (users x hidden)."""
    out = np.empty(users.shape[0], dtype=np.float32)
    for n in range(users.shape[0]):
        code, weights = codes[code_rows[n]], w_out_t[users[n]]
        total = b_out[users[n]]
        for h in range(code.shape[0]):
            total += code[h] * weights[h]
        out[n] = total
    return out


@njit(cache=True, nogil=True, fastmath=True)
def batch_gradients(indptr, users, values, rows, w_in, b_in, w_out_t, b_out, l2):
    """Loss and gradients of one batch of movies: mean squared error over their observed cells
    plus l2 times the squared weights (Keras' L2 regulariser on both kernels; its gradient is
    added in `adam_step`). `w_out_t` is the decoder's kernel transposed (users x hidden), so each
    user's weights are one row."""
    hidden = w_in.shape[1]
    codes = encode(indptr, users, values, rows, w_in, b_in)
    count = 0
    for r in range(rows.shape[0]):
        count += indptr[rows[r] + 1] - indptr[rows[r]]
    scale = np.float32(2.0 / max(count, 1))
    g_in, g_out_t = np.zeros_like(w_in), np.zeros_like(w_out_t)
    g_b_in, g_b_out = np.zeros_like(b_in), np.zeros_like(b_out)
    d_code = np.empty(hidden, dtype=np.float32)
    loss = 0.0
    for r in range(rows.shape[0]):
        movie, code = rows[r], codes[r]
        d_code[:] = 0.0
        for j in range(indptr[movie], indptr[movie + 1]):
            user = users[j]
            weights, gradient = w_out_t[user], g_out_t[user]
            error = b_out[user] - values[j]
            for h in range(hidden):
                error += code[h] * weights[h]
            loss += error * error
            d_out = scale * error
            g_b_out[user] += d_out
            for h in range(hidden):
                gradient[h] += d_out * code[h]
                d_code[h] += d_out * weights[h]
        for h in range(hidden):
            d_code[h] *= code[h] * (1 - code[h])
            g_b_in[h] += d_code[h]
        for j in range(indptr[movie], indptr[movie + 1]):
            value, gradient = values[j], g_in[users[j]]
            for h in range(hidden):
                gradient[h] += value * d_code[h]
    penalty = l2 * (np.sum(w_in * w_in) + np.sum(w_out_t * w_out_t))
    return loss / max(count, 1) + penalty, g_in, g_b_in, g_out_t, g_b_out


@njit(cache=True, nogil=True, fastmath=True)
def adam_step(weights, gradient, first, second, rate, beta1, beta2, epsilon, decay):
    """Keras' Adam update in place, on `gradient` plus decay x weights (an L2 penalty's
    gradient); `rate` already carries the bias corrections."""
    flat_w, flat_g = weights.reshape(-1), gradient.reshape(-1)
    flat_m, flat_v = first.reshape(-1), second.reshape(-1)
    for n in range(flat_w.shape[0]):
        g = flat_g[n] + decay * flat_w[n]
        flat_m[n] += (1 - beta1) * (g - flat_m[n])
        flat_v[n] += (1 - beta2) * (g * g - flat_v[n])
        flat_w[n] -= rate * flat_m[n] / (np.sqrt(flat_v[n]) + epsilon)
