"""The same per-token math and per-rollout features, vectorized with numpy, on the same pool
and position stream as scripts/bench/pool.mjs (prints one JSON line)."""
import json, resource, sys, time
import numpy as np

K, KA, V, P, STRIDE, L = 100, 20, 400, 4096, 7919, 1000
T, KCOV, FLOOR, EPS, W = 0.6, 20, -1000.0, 1e-8, 8

def make_pool():
    s = 12345
    def rnd():
        nonlocal s
        s = (s * 1103515245 + 12345) & 0xFFFFFFFF
        return s / 4294967296
    ids = np.zeros((P, K), np.int64); lp = np.zeros((P, K)); aids = np.zeros((P, KA), np.int64); alp = np.zeros((P, KA)); tok = np.zeros(P, np.int64)
    for p in range(P):
        used = set()
        for i in range(K):
            while True:
                x = int(rnd() * V)
                if x not in used: break
            used.add(x); ids[p, i] = x
        acc = 0.0
        for i in range(K):
            acc -= rnd() * 0.5 + 0.01; lp[p, i] = acc
        aused = set()
        for i in range(KA):
            while True:
                x = int(ids[p, int(rnd() * K)]) if rnd() < 0.7 else int(rnd() * V)
                if x not in aused: break
            aused.add(x); aids[p, i] = x
        b = 0.0
        for i in range(KA):
            b -= rnd() * 0.6 + 0.01; alp[p, i] = b
        tok[p] = ids[p, 0 if rnd() < 0.8 else 1]
    return ids, lp, aids, alp, tok

def features(ids, lp, aids, alp, tok):
    lpT = np.maximum(lp, FLOOR) / T
    lseS = np.logaddexp.reduce(lpT, axis=1)
    logpS = lpT - lseS[:, None]; pS = np.exp(logpS)
    alpT = np.maximum(alp, FLOOR) / T
    lseA = np.logaddexp.reduce(alpT, axis=1)
    logpA = alpT - lseA[:, None]
    # taken token under S and A
    inS = ids == tok[:, None]; inA = aids == tok[:, None]
    lS = np.where(inS.any(1), (logpS * inS).sum(1), FLOOR / T - lseS)
    lA = np.where(inA.any(1), (logpA * inA).sum(1), FLOOR / T - lseA)
    delta = lS - lA
    # coverage: A's top-k_cov (sorted descending), S's mass on them
    match = aids[:, :KCOV, None] == ids[:, None, :]          # (B, kcov, K)
    massS = (match * pS[:, None, :]).sum((1, 2))
    massA = np.exp(logpA[:, :KCOV]).sum(1)
    gcov = np.log((massA + EPS) / (massS + EPS))
    J = np.maximum(0, delta) + np.maximum(0, gcov)
    mean = (pS * np.maximum(lp, FLOOR)).sum(1)
    var = (pS * (np.maximum(lp, FLOOR) - mean[:, None]) ** 2).sum(1)
    # KL over S's top-K: S tokens' log-prob under A (floor outside A's top-K)
    m2 = ids[:, :, None] == aids[:, None, :]                 # (B, K, KA)
    lpAonS = np.where(m2.any(2), (m2 * logpA[:, None, :]).sum(2), (FLOOR / T - lseA)[:, None])
    kl = np.maximum(0, (pS * (logpS - lpAonS)).sum(1))
    return J, var, kl

def main(n):
    ids, lp, aids, alp, tok = make_pool()
    order = (np.arange(n, dtype=np.int64) * STRIDE) % P
    t0 = time.perf_counter()
    out = []
    for start in range(0, n, 20 * L):
        idx = order[start:start + 20 * L]
        J, var, kl = features(ids[idx], lp[idx], aids[idx], alp[idx], tok[idx])
        R = len(idx) // L
        J = J[: R * L].reshape(R, L); var = var[: R * L].reshape(R, L)
        spread = (J > 0).mean(1)
        conc = np.log10(np.maximum(J.max(1), 1e-8) / np.maximum(J.mean(1), EPS))
        j = J.argmax(1)
        win = np.arange(L)[None, :]
        mask = (win >= (j - W)[:, None]) & (win <= (j + W)[:, None])
        disp = np.log10(np.maximum((var * mask).sum(1) / mask.sum(1), 1e-8))
        out.append(spread.sum() + conc.sum() + disp.sum())
    dt = time.perf_counter() - t0
    print(json.dumps({"bench": "features-numpy", "positions": n, "seconds": round(dt, 3), "positions_per_s": round(n / dt), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "checksum": float(sum(out))}))

main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
