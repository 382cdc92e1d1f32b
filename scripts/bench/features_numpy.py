"""The per-token signals and per-rollout features of src/core (tokenSignals.ts,
rolloutFeatureAccumulator.ts) written as a data scientist would in numpy, on the same pool and
position stream as scripts/bench/pool.mjs: raw log-probs with a tail mass, the tail-aware
normalizer, G_cov with S-missing ancestor tokens at the tail estimate, the J tolerance, KL,
entropy, logit variance, DeepConf confidence, the junction window and the sliding confidence
windows. Every summary field TS computes, computed here too, so the work is equal.

One rollout (1000 positions) per chunk, so a chunk's (1000, K) arrays stay in cache; buffers
reused (out=); ids matched by vector compares; max + log-sum-exp. The rollouts are prebuilt before
timing, as in features.mjs. Prints one JSON line per dtype (float64, float32) with the rate and a
checksum (per-field sums over all rollouts).

Usage: python3 features_numpy.py [positions=2000000] [dtype=float64,float32]
"""
import json
import resource
import sys
import time

import numpy as np

K, KA, V, P, STRIDE, L, DISTINCT = 100, 20, 400, 4096, 7919, 1000, 64
T, KCOV, FLOOR, EPS, W = 0.6, 20, -1000.0, 1e-8, 8
CONF_TOPK, CONF_W, LOG_FLOOR = 20, 16, 1e-8
TAIL_FRACTION, TAIL_MASS_FLOOR, RAW_MASS_TOL, J_TOL = 0.5, 1e-12, 1e-3, 1e-12
FIELDS = ["spread", "concentration", "logitDispersion", "maxJ", "meanJ", "junction", "meanDeltaPath", "meanGcov",
          "meanKl", "meanEntropy", "meanLogprob", "minWindowConfidence", "dispersionAtMinConfidence"]


def make_pool():
    """pool.mjs's LCG pool, reproduced draw for draw."""
    s = 12345

    def rnd():
        nonlocal s
        s = (s * 1103515245 + 12345) & 0xFFFFFFFF
        return s / 4294967296

    def normalize_raw(row, m):
        total = 0.0
        for x in row:
            total += np.exp(x)
        shift = np.log(1 - m) - np.log(total)
        row += shift

    ids = np.zeros((P, K), np.int32); lp = np.zeros((P, K)); aids = np.zeros((P, KA), np.int32)
    alp = np.zeros((P, KA)); tok = np.zeros(P, np.int32)
    for p in range(P):
        used = set()
        for i in range(K):
            while True:
                x = int(rnd() * V)
                if x not in used:
                    break
            used.add(x); ids[p, i] = x
        acc = 0.0
        for i in range(K):
            acc -= rnd() * 0.5 + 0.01; lp[p, i] = acc
        aused = set()
        for i in range(KA):
            while True:
                x = int(ids[p, int(rnd() * K)]) if rnd() < 0.7 else int(rnd() * V)
                if x not in aused:
                    break
            aused.add(x); aids[p, i] = x
        b = 0.0
        for i in range(KA):
            b -= rnd() * 0.6 + 0.01; alp[p, i] = b
        tok[p] = ids[p, 0 if rnd() < 0.8 else 1]
        normalize_raw(lp[p], 0.3 * rnd())
        normalize_raw(alp[p], 0.3 * rnd())
    return ids, lp, aids, alp, tok


class Model:
    """One model's slices in a chunk: clamped log-probs, weights, the full normalizer's estimate."""

    def __init__(self, B, k, dt):
        self.v = np.empty((B, k), dt); self.t = np.empty((B, k), dt); self.w = np.empty((B, k), dt)

    def normalize(self, lp, ids, tok, which):
        v, t, w = self.v, self.t, self.w
        if not (lp <= 1e-6).all():
            raise ValueError(f"{which} log-probs must be finite and <= 0")
        np.maximum(lp, FLOOR, out=v)
        self.desc = (lp[:, 1:] <= lp[:, :-1]).all(1)
        vmax = v.max(1)
        self.vmax = vmax
        np.subtract(v, vmax[:, None], out=t); t *= 1 / T
        np.exp(t, out=w)
        self.R = w.sum(1)
        # Unreturned mass 1 - sum(p): summed smallest first when a row is not sorted (order independence).
        np.exp(v, out=t)
        mass1 = t.sum(1)
        if not self.desc.all():
            rows = ~self.desc
            mass1[rows] = np.sort(t[rows], axis=1).sum(1)
        if (mass1 > 1 + RAW_MASS_TOL).any():
            raise ValueError(f"{which} top-K probabilities sum above 1: not raw log-probs")
        # Tail bound: smallest probability of the top block (the next smallest when the smallest is the taken token).
        ar = np.arange(len(tok))
        if self.desc.all():  # sorted rows: the two smallest are the last two
            min_at = np.full(len(tok), lp.shape[1] - 1)
            mn, second = lp[:, -1], lp[:, -2]
        else:
            min_at = lp.argmin(1)
            mn = lp[ar, min_at]
            second = np.partition(lp, 1, axis=1)[:, 1]
        use = np.where((ids[ar, min_at] == tok) & (second > mn), second, mn)
        p_tail = np.exp(np.maximum(use, FLOOR))
        m = np.maximum(0, 1 - mass1)
        bound = np.minimum(p_tail, m)
        bound[m < TAIL_MASS_FLOOR] = 0
        m[m < TAIL_MASS_FLOOR] = 0
        has = bound > 0
        with np.errstate(divide="ignore"):
            self.log_est = np.where(has, np.log(TAIL_FRACTION * bound), -np.inf)
            self.shift = vmax / T
            tail = np.where(has, np.exp(np.log(m) + (1 / T - 1) * self.log_est - self.shift), 0)
        self.m, self.has_tail = m, has
        self.Z = self.R + tail
        self.logZ = self.shift + np.log(self.Z)
        self.missing = np.where(has, np.maximum(self.log_est, FLOOR), FLOOR)


def token_signals(ids, lp, aids, alp, tok, S, A, dt):
    """Per-position signals of a chunk: J, Δpath, G_cov, KL, logit variance, entropy, taken log-prob, confidence."""
    B = len(tok)
    ar = np.arange(B)
    S.normalize(lp, ids, tok, "specialist")
    v, w, t = S.v, S.w, S.t
    sum_wv = np.einsum("ij,ij->i", w, v)
    mean = sum_wv / S.R
    np.subtract(v, mean[:, None], out=t); np.square(t, out=t)
    var = np.einsum("ij,ij->i", w, t) / S.R
    entropy = np.log(S.R) + (S.vmax - mean) / T
    if S.desc.all():
        conf = -v[:, :CONF_TOPK].mean(1)
    else:
        conf = -np.where(S.desc, v[:, :CONF_TOPK].mean(1), -np.sort(-v, axis=1)[:, :CONF_TOPK].mean(1))
    at_s = (ids == tok[:, None]).argmax(1)
    has_s = ids[ar, at_s] == tok
    x_s = v[ar, at_s]
    taken = np.where(has_s, x_s, v.min(1))
    lx_s = np.where(has_s, x_s, S.missing)

    A.normalize(alp, aids, tok, "ancestor")
    va, wa = A.v, A.w
    at_a = (aids == tok[:, None]).argmax(1)
    lx_a = np.where(aids[ar, at_a] == tok, va[ar, at_a], A.missing)
    log_ps = lx_s / T - S.logZ
    log_pa = lx_a / T - A.logZ
    dpath = log_ps - log_pa

    # A_t = A's top-k_cov (all of A's entries when K_A <= k_cov); each A id matched in S by vector compares.
    if KA <= KCOV:
        cov = slice(None)
    else:
        raise NotImplementedError("K_A > k_cov")  # not exercised by this pool
    at = (aids[:, :, None] == ids[:, None, :]).argmax(2)   # (B, KA): where each A id sits in S's row
    found = ids[ar[:, None], at] == aids
    c_a = wa[:, cov].sum(1)
    w_at = np.where(found, w[ar[:, None], at], 0)
    c_s = w_at[:, cov].sum(1)
    missing = (~found[:, cov]).sum(1)
    a = 1 / T - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        miss_est = np.where((missing > 0) & S.has_tail,
                            np.exp(np.log(np.minimum(missing * np.exp(S.log_est), S.m)) + a * S.log_est - S.shift), 0)
    mass_a = c_a / A.Z
    mass_s = (c_s + miss_est) / S.Z
    log_ma = np.log(mass_a + EPS)
    log_ms = np.log(mass_s + EPS)
    gcov = log_ma - log_ms

    # KL's top-K part: each S entry against A's log-prob for it (A's tail estimate when A did not return it).
    va_on_s = np.empty_like(v)
    va_on_s[...] = A.missing[:, None]
    rows, cols = np.nonzero(found)
    va_on_s[rows, at[rows, cols]] = va[rows, cols]
    np.subtract(v, va_on_s, out=t)
    kl = (np.einsum("ij,ij->i", w, t) / T + S.R * (A.logZ - S.logZ)) / S.Z
    np.maximum(kl, 0, out=kl)

    dpos = np.where(dpath > J_TOL * np.maximum(1, np.maximum(np.abs(log_ps), np.abs(log_pa))), dpath, 0)
    gpos = np.where(gcov > J_TOL * np.maximum(1, np.maximum(np.abs(log_ma), np.abs(log_ms))), gcov, 0)
    return dpos + gpos, dpath, gcov, kl, var, entropy, taken, conf


def rollout_features(J, dpath, gcov, kl, var, entropy, taken, conf):
    """Per-rollout summaries of R rollouts of L positions each (arrays (R, L)), as sums over rollouts."""
    R = J.shape[0]
    lf = lambda x: np.log10(np.maximum(x, LOG_FLOOR))
    max_j = J.max(1)
    j_star = J.argmax(1)
    mean_j = J.mean(1)
    idx = np.arange(L)[None, :]
    in_win = (idx >= (j_star - W)[:, None]) & (idx <= (j_star + W)[:, None])
    disp = lf((var * in_win).sum(1) / in_win.sum(1))
    win_conf = np.lib.stride_tricks.sliding_window_view(conf, CONF_W, axis=1).mean(2)
    win_var = np.lib.stride_tricks.sliding_window_view(var, CONF_W, axis=1).mean(2)
    lowest = win_conf.argmin(1)
    r = np.arange(R)
    return {
        "spread": (J > 0).mean(1).sum(),
        "concentration": (lf(max_j) - np.log10(np.maximum(mean_j, EPS))).sum(),
        "logitDispersion": disp.sum(),
        "maxJ": max_j.sum(), "meanJ": mean_j.sum(), "junction": float(j_star.sum()),
        "meanDeltaPath": dpath.mean(1).sum(), "meanGcov": gcov.mean(1).sum(), "meanKl": kl.mean(1).sum(),
        "meanEntropy": entropy.mean(1).sum(), "meanLogprob": taken.mean(1).sum(),
        "minWindowConfidence": win_conf[r, lowest].sum(), "dispersionAtMinConfidence": lf(win_var[r, lowest]).sum(),
    }


def run(n, dt, pool):
    """n positions = n // L rollouts; rollout r is distinct rollout r % DISTINCT, prebuilt (as arrays of
    shape (DISTINCT, L, K)) before timing, as traces would arrive; no gather is timed."""
    ids, lp, aids, alp, tok = pool
    idx = ((np.arange(DISTINCT)[:, None] * L + np.arange(L)[None, :]) * STRIDE) % P
    r_ids, r_lp, r_aids, r_alp, r_tok = ids[idx], lp[idx].astype(dt), aids[idx], alp[idx].astype(dt), tok[idx]
    S, A = Model(L, K, dt), Model(L, KA, dt)
    sums = dict.fromkeys(FIELDS, 0.0)
    rollouts = n // L
    t0, c0 = time.perf_counter(), time.process_time()
    for r in range(rollouts):
        d = r % DISTINCT
        sig = token_signals(r_ids[d], r_lp[d], r_aids[d], r_alp[d], r_tok[d], S, A, dt)
        for k, x in rollout_features(*(s.reshape(1, L) for s in sig)).items():
            sums[k] += float(x)
    dt_wall, dt_cpu = time.perf_counter() - t0, time.process_time() - c0
    m = rollouts * L
    return {"bench": "features-numpy", "kind": "numpy-" + np.dtype(dt).name, "dtype": np.dtype(dt).name, "positions": m,
            "seconds": round(dt_wall, 3), "cpu_seconds": round(dt_cpu, 3), "positions_per_s": round(m / dt_wall),
            "positions_per_cpu_s": round(m / dt_cpu),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "numpy": np.__version__, "numpy_avx512": numpy_avx512(),
            "checksum": sum(sums.values()), "fields": sums}


def numpy_avx512():
    """Whether numpy's AVX-512 code paths are on (its float64 exp is vectorized only there):
    off on a CPU without AVX-512, or with NPY_DISABLE_CPU_FEATURES="X86_V4 …" (numpy 2)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as f
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as f
    return bool(f.get("X86_V4", f.get("AVX512_SKX", False)))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    dtypes = (sys.argv[2] if len(sys.argv) > 2 else "float64,float32").split(",")
    pool = make_pool()
    for d in dtypes:
        print(json.dumps(run(n, getattr(np, d), pool)), flush=True)


main()
