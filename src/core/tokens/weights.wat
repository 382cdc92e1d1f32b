;; The exp-heavy pass of the token-signal kernel (tokenSignals.ts) in WebAssembly SIMD, two
;; entries at a time: w_i = exp((c_i - vmax) * invT), Σ w, Σ w·c and, for raw log-probs, Σ exp(c_i),
;; for the clamped log-probs c_i the caller wrote into memory.
;;
;; exp: x = k·ln2 + r (k = round(x·log2 e) by the 1.5·2^52 shifter, ln2 split as in fdlibm so
;; k·ln2HI is exact), e^r by its degree-13 Taylor polynomial in Estrin form (truncation < 5e-18
;; for |r| <= ln2/2), times 2^(k>>1)·2^(k-(k>>1)) so subnormal results round once; x < -745.2
;; gives 0. Within 2 ulp of Math.exp (test/core/wasmWeights.test.ts), about 1.6x faster in V8.
;; Inputs are clamped to [-746, 710] first, so no lane computes on subnormals (slow on x86).
;; Where 2 ulp would show — Σ exp(c) near 1, whose unreturned part 1 − Σ is ill-conditioned —
;; $exactMass sums it with $fexpv, a copy of Math.exp itself (V8's fdlibm exp, operation for
;; operation): for a slice whose largest probability is at least 0.99 (scanWeigh), and for the
;; re-sum tokenSignals.ts asks for when a mass summed here leaves less than 1% unreturned.
;;
;; The scan before it (scanWeigh) and the pass over the paired slices after it (pair) are the
;; JavaScript kernel's loops, operation for operation, so their results are bit for bit the same.
;;
;; Compiled by scripts/build-wasm.mjs (wabt) into weightsWasm.ts; never edit that file by hand.
(module
  (memory (export "memory") 1)

  (func $expv (param $x v128) (result v128)
    ;; exp of both lanes (see the top of the file)
    (local $kd v128) (local $kf v128) (local $ki v128) (local $r v128) (local $r2 v128) (local $r4 v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $y v128) (local $k1 v128) (local $xc v128)
    (local.set $xc (f64x2.pmin (v128.const f64x2 710 710) (f64x2.pmax (v128.const f64x2 -746 -746) (local.get $x))))
    (local.set $kd (f64x2.add (f64x2.mul (local.get $xc) (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
    (local.set $kf (f64x2.sub (local.get $kd) (v128.const f64x2 0x1.8p52 0x1.8p52)))
    (local.set $ki (i64x2.sub (local.get $kd) (v128.const f64x2 0x1.8p52 0x1.8p52)))
    (local.set $r (f64x2.sub (f64x2.sub (local.get $xc) (f64x2.mul (local.get $kf) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1)))
                              (f64x2.mul (local.get $kf) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))))
    (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
    (local.set $q0 (f64x2.add (f64x2.add (v128.const f64x2 1 1) (local.get $r))
      (f64x2.mul (local.get $r2) (f64x2.add (v128.const f64x2 0x1p-1 0x1p-1) (f64x2.mul (local.get $r) (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3))))))
    (local.set $q1 (f64x2.add
      (f64x2.add (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5) (f64x2.mul (local.get $r) (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7)))
      (f64x2.mul (local.get $r2) (f64x2.add (v128.const f64x2 0x1.6c16c16c16c17p-10 0x1.6c16c16c16c17p-10) (f64x2.mul (local.get $r) (v128.const f64x2 0x1.a01a01a01a01ap-13 0x1.a01a01a01a01ap-13))))))
    (local.set $q2 (f64x2.add (f64x2.add
      (f64x2.add (v128.const f64x2 0x1.a01a01a01a01ap-16 0x1.a01a01a01a01ap-16) (f64x2.mul (local.get $r) (v128.const f64x2 0x1.71de3a556c734p-19 0x1.71de3a556c734p-19)))
      (f64x2.mul (local.get $r2) (f64x2.add (v128.const f64x2 0x1.27e4fb7789f5cp-22 0x1.27e4fb7789f5cp-22) (f64x2.mul (local.get $r) (v128.const f64x2 0x1.ae64567f544e4p-26 0x1.ae64567f544e4p-26)))))
      (f64x2.mul (local.get $r4) (f64x2.add (v128.const f64x2 0x1.1eed8eff8d898p-29 0x1.1eed8eff8d898p-29) (f64x2.mul (local.get $r) (v128.const f64x2 0x1.6124613a86d09p-33 0x1.6124613a86d09p-33))))))
    (local.set $y (f64x2.add (local.get $q0) (f64x2.mul (local.get $r4) (f64x2.add (local.get $q1) (f64x2.mul (local.get $r4) (local.get $q2))))))
    (local.set $k1 (i64x2.shr_s (local.get $ki) (i32.const 1)))
    (local.set $y (f64x2.mul (f64x2.mul (local.get $y) (i64x2.shl (i64x2.add (local.get $k1) (v128.const i64x2 1023 1023)) (i32.const 52)))
                             (i64x2.shl (i64x2.add (i64x2.sub (local.get $ki) (local.get $k1)) (v128.const i64x2 1023 1023)) (i32.const 52))))
    (v128.bitselect (v128.const f64x2 0 0) (local.get $y) (f64x2.lt (local.get $x) (v128.const f64x2 -745.2 -745.2))))

  ;; V8's own exp (Math.exp: fdlibm's e_exp.c as V8's src/base/ieee754.cc has it) on both lanes,
  ;; operation for operation, so its results are Math.exp's bit for bit (test/core/wasmWeights.test.ts).
  ;; Its branches become selects. |x| > 0.5·ln2: x = k·ln2 + (hi − lo), k = ±1 below 1.5·ln2, else
  ;; k = trunc(x·log2 e ± 0.5); otherwise k = 0, hi = x, lo = 0, which gives fdlibm's k = 0 formula
  ;; (its two negations are exact). e^r = 1 − ((lo − r·c/(2 − c)) − hi), c = r − t·P(t), t = r², r =
  ;; hi − lo; times 2^k, or 2^(k+1000) then 2^−1000 below k = −1021 (2 then 2^1023 at k = 1024).
  ;; Then fdlibm's special cases: |x| < 2^−28 gives 1 + x, x = 1 gives e, past its thresholds ∞ or
  ;; 0, NaN itself. The arithmetic runs on x clamped to [−746, 710] (lanes outside are special cases).
  (func $fexpv (param $x v128) (result v128)
    (local $xc v128) (local $hx v128) (local $big v128) (local $mid v128) (local $sign v128) (local $kf v128) (local $hi v128) (local $lo v128)
    (local $r v128) (local $t v128) (local $c v128) (local $y v128) (local $ki v128) (local $normal v128) (local $top v128) (local $s1 v128) (local $s2 v128)
    (local.set $xc (f64x2.pmin (v128.const f64x2 710 710) (f64x2.pmax (v128.const f64x2 -746 -746) (local.get $x))))
    ;; the high word of |x|, and the sign bit
    (local.set $hx (i64x2.shr_u (v128.and (local.get $xc) (v128.const i64x2 0x7fffffffffffffff 0x7fffffffffffffff)) (i32.const 32)))
    (local.set $sign (v128.and (local.get $xc) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))
    (local.set $big (i64x2.gt_s (local.get $hx) (v128.const i64x2 0x3fd62e42 0x3fd62e42)))
    (local.set $mid (v128.and (local.get $big) (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x3ff0a2b2 0x3ff0a2b2))))
    ;; k: ±1 (mid), trunc(invln2·x + halF[sign]) (big), else 0
    (local.set $kf
      (v128.and (local.get $big)
        (v128.bitselect
          (v128.or (v128.const f64x2 1 1) (local.get $sign))
          (f64x2.trunc (f64x2.add (f64x2.mul (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0) (local.get $xc))
                                  (v128.or (v128.const f64x2 0.5 0.5) (local.get $sign))))
          (local.get $mid))))
    (local.set $hi (f64x2.sub (local.get $xc) (f64x2.mul (local.get $kf) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))))
    (local.set $lo (f64x2.mul (local.get $kf) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33)))
    (local.set $r (f64x2.sub (local.get $hi) (local.get $lo)))
    (local.set $t (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $c (f64x2.sub (local.get $r) (f64x2.mul (local.get $t)
      (f64x2.add (v128.const f64x2 0x1.555555555553ep-3 0x1.555555555553ep-3) (f64x2.mul (local.get $t)
      (f64x2.add (v128.const f64x2 -0x1.6c16c16bebd93p-9 -0x1.6c16c16bebd93p-9) (f64x2.mul (local.get $t)
      (f64x2.add (v128.const f64x2 0x1.1566aaf25de2cp-14 0x1.1566aaf25de2cp-14) (f64x2.mul (local.get $t)
      (f64x2.add (v128.const f64x2 -0x1.bbd41c5d26bf1p-20 -0x1.bbd41c5d26bf1p-20) (f64x2.mul (local.get $t) (v128.const f64x2 0x1.6376972bea4d0p-25 0x1.6376972bea4d0p-25))))))))))))
    (local.set $y (f64x2.sub (v128.const f64x2 1 1)
      (f64x2.sub (f64x2.sub (local.get $lo) (f64x2.div (f64x2.mul (local.get $r) (local.get $c)) (f64x2.sub (v128.const f64x2 2 2) (local.get $c)))) (local.get $hi))))
    ;; k as an integer (kf is a whole number of magnitude under 2^51), then the scale
    (local.set $ki (i64x2.sub (f64x2.add (local.get $kf) (v128.const f64x2 0x1.8p52 0x1.8p52)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
    (local.set $normal (i64x2.gt_s (local.get $ki) (v128.const i64x2 -1022 -1022)))
    (local.set $top (i64x2.eq (local.get $ki) (v128.const i64x2 1024 1024)))
    (local.set $s1 (i64x2.shl (i64x2.add (local.get $ki) (v128.bitselect (v128.const i64x2 1023 1023) (v128.const i64x2 2023 2023) (local.get $normal))) (i32.const 52)))
    (local.set $s1 (v128.bitselect (v128.const f64x2 2 2) (local.get $s1) (local.get $top)))
    (local.set $s2 (v128.bitselect (v128.const f64x2 1 1) (v128.const f64x2 0x1p-1000 0x1p-1000) (local.get $normal)))
    (local.set $s2 (v128.bitselect (v128.const f64x2 0x1p1023 0x1p1023) (local.get $s2) (local.get $top)))
    (local.set $y (f64x2.mul (f64x2.mul (local.get $y) (local.get $s1)) (local.get $s2)))
    ;; fdlibm's special cases (at most one holds for a lane)
    (local.set $y (v128.bitselect (f64x2.add (v128.const f64x2 1 1) (local.get $x)) (local.get $y)
      (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x3e300000 0x3e300000))))
    (local.set $y (v128.bitselect (v128.const f64x2 0x1.5bf0a8b145769p+1 0x1.5bf0a8b145769p+1) (local.get $y) (f64x2.eq (local.get $x) (v128.const f64x2 1 1))))
    (local.set $y (v128.bitselect (v128.const f64x2 inf inf) (local.get $y) (f64x2.gt (local.get $x) (v128.const f64x2 0x1.62e42fefa39efp+9 0x1.62e42fefa39efp+9))))
    (local.set $y (v128.bitselect (v128.const f64x2 0 0) (local.get $y) (f64x2.lt (local.get $x) (v128.const f64x2 -0x1.74910d52d3051p+9 -0x1.74910d52d3051p+9))))
    (v128.bitselect (f64x2.add (local.get $x) (local.get $x)) (local.get $y) (f64x2.ne (local.get $x) (local.get $x))))

  ;; Σ exp(c[i]) over c[0..n) at $src by $fexpv (Math.exp's bits), summed from the last entry to
  ;; the first as the JavaScript loop sums it: the same sum bit for bit. c[-1] must be readable.
  (func $exactMass (export "exactMass") (param $src i32) (param $n i32) (result f64)
    (local $i i32) (local $u v128) (local $mass f64)
    (local $xcA v128) (local $hxA v128) (local $bigA v128) (local $midA v128) (local $signA v128) (local $kfA v128) (local $hiA v128) (local $loA v128) (local $rA v128) (local $tA v128) (local $cA v128) (local $yA v128) (local $kiA v128) (local $normalA v128) (local $topA v128) (local $s1A v128) (local $s2A v128) (local $resA v128) (local $xA v128)
    (local $xcB v128) (local $hxB v128) (local $bigB v128) (local $midB v128) (local $signB v128) (local $kfB v128) (local $hiB v128) (local $loB v128) (local $rB v128) (local $tB v128) (local $cB v128) (local $yB v128) (local $kiB v128) (local $normalB v128) (local $topB v128) (local $s1B v128) (local $s2B v128) (local $resB v128) (local $xB v128)
    ;; four entries a step: $fexpv's body written out for two pairs (locals ...A, ...B), whose
    ;; independent chains then overlap (V8 does not inline the call, which runs slower); then the
    ;; last one to three entries through $fexpv. The test compares every length 1-9 with Math.exp.
    (local.set $i (i32.sub (local.get $n) (i32.const 4)))
    (block $fours
      (loop $quads
        (br_if $fours (i32.lt_s (local.get $i) (i32.const 0)))
        (local.set $xA (v128.load offset=16 (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $xB (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
            (local.set $xcA (f64x2.pmin (v128.const f64x2 710 710) (f64x2.pmax (v128.const f64x2 -746 -746) (local.get $xA))))
        ;; the high word of |x|, and the sign bit
        (local.set $hxA (i64x2.shr_u (v128.and (local.get $xcA) (v128.const i64x2 0x7fffffffffffffff 0x7fffffffffffffff)) (i32.const 32)))
        (local.set $signA (v128.and (local.get $xcA) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))
        (local.set $bigA (i64x2.gt_s (local.get $hxA) (v128.const i64x2 0x3fd62e42 0x3fd62e42)))
        (local.set $midA (v128.and (local.get $bigA) (i64x2.lt_s (local.get $hxA) (v128.const i64x2 0x3ff0a2b2 0x3ff0a2b2))))
        ;; k: ±1 (mid), trunc(invln2·x + halF[sign]) (big), else 0
        (local.set $kfA
          (v128.and (local.get $bigA)
            (v128.bitselect
              (v128.or (v128.const f64x2 1 1) (local.get $signA))
              (f64x2.trunc (f64x2.add (f64x2.mul (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0) (local.get $xcA))
                                      (v128.or (v128.const f64x2 0.5 0.5) (local.get $signA))))
              (local.get $midA))))
        (local.set $hiA (f64x2.sub (local.get $xcA) (f64x2.mul (local.get $kfA) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))))
        (local.set $loA (f64x2.mul (local.get $kfA) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33)))
        (local.set $rA (f64x2.sub (local.get $hiA) (local.get $loA)))
        (local.set $tA (f64x2.mul (local.get $rA) (local.get $rA)))
        (local.set $cA (f64x2.sub (local.get $rA) (f64x2.mul (local.get $tA)
          (f64x2.add (v128.const f64x2 0x1.555555555553ep-3 0x1.555555555553ep-3) (f64x2.mul (local.get $tA)
          (f64x2.add (v128.const f64x2 -0x1.6c16c16bebd93p-9 -0x1.6c16c16bebd93p-9) (f64x2.mul (local.get $tA)
          (f64x2.add (v128.const f64x2 0x1.1566aaf25de2cp-14 0x1.1566aaf25de2cp-14) (f64x2.mul (local.get $tA)
          (f64x2.add (v128.const f64x2 -0x1.bbd41c5d26bf1p-20 -0x1.bbd41c5d26bf1p-20) (f64x2.mul (local.get $tA) (v128.const f64x2 0x1.6376972bea4d0p-25 0x1.6376972bea4d0p-25))))))))))))
        (local.set $yA (f64x2.sub (v128.const f64x2 1 1)
          (f64x2.sub (f64x2.sub (local.get $loA) (f64x2.div (f64x2.mul (local.get $rA) (local.get $cA)) (f64x2.sub (v128.const f64x2 2 2) (local.get $cA)))) (local.get $hiA))))
        ;; k as an integer (kf is a whole number of magnitude under 2^51), then the scale
        (local.set $kiA (i64x2.sub (f64x2.add (local.get $kfA) (v128.const f64x2 0x1.8p52 0x1.8p52)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $normalA (i64x2.gt_s (local.get $kiA) (v128.const i64x2 -1022 -1022)))
        (local.set $topA (i64x2.eq (local.get $kiA) (v128.const i64x2 1024 1024)))
        (local.set $s1A (i64x2.shl (i64x2.add (local.get $kiA) (v128.bitselect (v128.const i64x2 1023 1023) (v128.const i64x2 2023 2023) (local.get $normalA))) (i32.const 52)))
        (local.set $s1A (v128.bitselect (v128.const f64x2 2 2) (local.get $s1A) (local.get $topA)))
        (local.set $s2A (v128.bitselect (v128.const f64x2 1 1) (v128.const f64x2 0x1p-1000 0x1p-1000) (local.get $normalA)))
        (local.set $s2A (v128.bitselect (v128.const f64x2 0x1p1023 0x1p1023) (local.get $s2A) (local.get $topA)))
        (local.set $yA (f64x2.mul (f64x2.mul (local.get $yA) (local.get $s1A)) (local.get $s2A)))
        ;; fdlibm's special cases (at most one holds for a lane)
        (local.set $yA (v128.bitselect (f64x2.add (v128.const f64x2 1 1) (local.get $xA)) (local.get $yA)
          (i64x2.lt_s (local.get $hxA) (v128.const i64x2 0x3e300000 0x3e300000))))
        (local.set $yA (v128.bitselect (v128.const f64x2 0x1.5bf0a8b145769p+1 0x1.5bf0a8b145769p+1) (local.get $yA) (f64x2.eq (local.get $xA) (v128.const f64x2 1 1))))
        (local.set $yA (v128.bitselect (v128.const f64x2 inf inf) (local.get $yA) (f64x2.gt (local.get $xA) (v128.const f64x2 0x1.62e42fefa39efp+9 0x1.62e42fefa39efp+9))))
        (local.set $yA (v128.bitselect (v128.const f64x2 0 0) (local.get $yA) (f64x2.lt (local.get $xA) (v128.const f64x2 -0x1.74910d52d3051p+9 -0x1.74910d52d3051p+9))))
        (local.set $resA (v128.bitselect (f64x2.add (local.get $xA) (local.get $xA)) (local.get $yA) (f64x2.ne (local.get $xA) (local.get $xA))))
            (local.set $xcB (f64x2.pmin (v128.const f64x2 710 710) (f64x2.pmax (v128.const f64x2 -746 -746) (local.get $xB))))
        ;; the high word of |x|, and the sign bit
        (local.set $hxB (i64x2.shr_u (v128.and (local.get $xcB) (v128.const i64x2 0x7fffffffffffffff 0x7fffffffffffffff)) (i32.const 32)))
        (local.set $signB (v128.and (local.get $xcB) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))
        (local.set $bigB (i64x2.gt_s (local.get $hxB) (v128.const i64x2 0x3fd62e42 0x3fd62e42)))
        (local.set $midB (v128.and (local.get $bigB) (i64x2.lt_s (local.get $hxB) (v128.const i64x2 0x3ff0a2b2 0x3ff0a2b2))))
        ;; k: ±1 (mid), trunc(invln2·x + halF[sign]) (big), else 0
        (local.set $kfB
          (v128.and (local.get $bigB)
            (v128.bitselect
              (v128.or (v128.const f64x2 1 1) (local.get $signB))
              (f64x2.trunc (f64x2.add (f64x2.mul (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0) (local.get $xcB))
                                      (v128.or (v128.const f64x2 0.5 0.5) (local.get $signB))))
              (local.get $midB))))
        (local.set $hiB (f64x2.sub (local.get $xcB) (f64x2.mul (local.get $kfB) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))))
        (local.set $loB (f64x2.mul (local.get $kfB) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33)))
        (local.set $rB (f64x2.sub (local.get $hiB) (local.get $loB)))
        (local.set $tB (f64x2.mul (local.get $rB) (local.get $rB)))
        (local.set $cB (f64x2.sub (local.get $rB) (f64x2.mul (local.get $tB)
          (f64x2.add (v128.const f64x2 0x1.555555555553ep-3 0x1.555555555553ep-3) (f64x2.mul (local.get $tB)
          (f64x2.add (v128.const f64x2 -0x1.6c16c16bebd93p-9 -0x1.6c16c16bebd93p-9) (f64x2.mul (local.get $tB)
          (f64x2.add (v128.const f64x2 0x1.1566aaf25de2cp-14 0x1.1566aaf25de2cp-14) (f64x2.mul (local.get $tB)
          (f64x2.add (v128.const f64x2 -0x1.bbd41c5d26bf1p-20 -0x1.bbd41c5d26bf1p-20) (f64x2.mul (local.get $tB) (v128.const f64x2 0x1.6376972bea4d0p-25 0x1.6376972bea4d0p-25))))))))))))
        (local.set $yB (f64x2.sub (v128.const f64x2 1 1)
          (f64x2.sub (f64x2.sub (local.get $loB) (f64x2.div (f64x2.mul (local.get $rB) (local.get $cB)) (f64x2.sub (v128.const f64x2 2 2) (local.get $cB)))) (local.get $hiB))))
        ;; k as an integer (kf is a whole number of magnitude under 2^51), then the scale
        (local.set $kiB (i64x2.sub (f64x2.add (local.get $kfB) (v128.const f64x2 0x1.8p52 0x1.8p52)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $normalB (i64x2.gt_s (local.get $kiB) (v128.const i64x2 -1022 -1022)))
        (local.set $topB (i64x2.eq (local.get $kiB) (v128.const i64x2 1024 1024)))
        (local.set $s1B (i64x2.shl (i64x2.add (local.get $kiB) (v128.bitselect (v128.const i64x2 1023 1023) (v128.const i64x2 2023 2023) (local.get $normalB))) (i32.const 52)))
        (local.set $s1B (v128.bitselect (v128.const f64x2 2 2) (local.get $s1B) (local.get $topB)))
        (local.set $s2B (v128.bitselect (v128.const f64x2 1 1) (v128.const f64x2 0x1p-1000 0x1p-1000) (local.get $normalB)))
        (local.set $s2B (v128.bitselect (v128.const f64x2 0x1p1023 0x1p1023) (local.get $s2B) (local.get $topB)))
        (local.set $yB (f64x2.mul (f64x2.mul (local.get $yB) (local.get $s1B)) (local.get $s2B)))
        ;; fdlibm's special cases (at most one holds for a lane)
        (local.set $yB (v128.bitselect (f64x2.add (v128.const f64x2 1 1) (local.get $xB)) (local.get $yB)
          (i64x2.lt_s (local.get $hxB) (v128.const i64x2 0x3e300000 0x3e300000))))
        (local.set $yB (v128.bitselect (v128.const f64x2 0x1.5bf0a8b145769p+1 0x1.5bf0a8b145769p+1) (local.get $yB) (f64x2.eq (local.get $xB) (v128.const f64x2 1 1))))
        (local.set $yB (v128.bitselect (v128.const f64x2 inf inf) (local.get $yB) (f64x2.gt (local.get $xB) (v128.const f64x2 0x1.62e42fefa39efp+9 0x1.62e42fefa39efp+9))))
        (local.set $yB (v128.bitselect (v128.const f64x2 0 0) (local.get $yB) (f64x2.lt (local.get $xB) (v128.const f64x2 -0x1.74910d52d3051p+9 -0x1.74910d52d3051p+9))))
        (local.set $resB (v128.bitselect (f64x2.add (local.get $xB) (local.get $xB)) (local.get $yB) (f64x2.ne (local.get $xB) (local.get $xB))))
        (local.set $mass (f64.add (local.get $mass) (f64x2.extract_lane 1 (local.get $resA))))
        (local.set $mass (f64.add (local.get $mass) (f64x2.extract_lane 0 (local.get $resA))))
        (local.set $mass (f64.add (local.get $mass) (f64x2.extract_lane 1 (local.get $resB))))
        (local.set $mass (f64.add (local.get $mass) (f64x2.extract_lane 0 (local.get $resB))))
        (local.set $i (i32.sub (local.get $i) (i32.const 4)))
        (br $quads)))
    (local.set $i (i32.add (local.get $i) (i32.const 2)))
    (block $done
      (loop $pairs
        (br_if $done (i32.lt_s (local.get $i) (i32.const -1)))
        (local.set $u (call $fexpv (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $mass (f64.add (local.get $mass) (f64x2.extract_lane 1 (local.get $u))))
        (if (i32.ge_s (local.get $i) (i32.const 0))
          (then (local.set $mass (f64.add (local.get $mass) (f64x2.extract_lane 0 (local.get $u))))))
        (local.set $i (i32.sub (local.get $i) (i32.const 2)))
        (br $pairs)))
    (local.get $mass))

  ;; $fexpv of src[0..n) into dst[0..n) (n even), for the accuracy test.
  (func (export "fexpArray") (param $src i32) (param $dst i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
          (call $fexpv (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs))))

  ;; For c[0..n) at $src: w[i] = exp((c[i] - vmax) * invT) at $w; writes at memory 0, 8, 16:
  ;; Σ w, Σ w·c and (when $mass) Σ exp(c), each summed from the last entry to the first.
  ;; c[-1] and w[-1] must be writable scratch (an odd n computes one extra lane there).
  ;; $expv's body is written out here twice (locals ...W for w, ...U for exp(c)): V8 does not
  ;; inline the call, and the loop runs about 12% faster without it. test/core/wasmKernel.test.ts
  ;; checks both copies give $expv's results bit for bit.
  (func $weigh (param $src i32) (param $w i32) (param $n i32) (param $vmax f64) (param $invT f64) (param $mass i32)
    (local $i i32) (local $c v128) (local $wv v128) (local $uv v128)
    (local $kdW v128) (local $kfW v128) (local $kiW v128) (local $rW v128) (local $r2W v128) (local $r4W v128) (local $q0W v128) (local $q1W v128) (local $q2W v128) (local $yW v128) (local $k1W v128) (local $xcW v128) (local $xW v128)
    (local $kdU v128) (local $kfU v128) (local $kiU v128) (local $rU v128) (local $r2U v128) (local $r4U v128) (local $q0U v128) (local $q1U v128) (local $q2U v128) (local $yU v128) (local $k1U v128) (local $xcU v128) (local $xU v128)
    (local $returned f64) (local $sumWV f64) (local $mass1 f64) (local $wi f64)
    (local.set $i (i32.sub (local.get $n) (i32.const 2)))
    (block $done
      (loop $pairs
        (br_if $done (i32.lt_s (local.get $i) (i32.const -1)))
        ;; lanes: entry i (lane 0) and i + 1 (lane 1)
        (local.set $c (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $xW (f64x2.mul (f64x2.sub (local.get $c) (f64x2.splat (local.get $vmax))) (f64x2.splat (local.get $invT))))
        (local.set $xcW (f64x2.pmin (v128.const f64x2 710 710) (f64x2.pmax (v128.const f64x2 -746 -746) (local.get $xW))))
        (local.set $kdW (f64x2.add (f64x2.mul (local.get $xcW) (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $kfW (f64x2.sub (local.get $kdW) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $kiW (i64x2.sub (local.get $kdW) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $rW (f64x2.sub (f64x2.sub (local.get $xcW) (f64x2.mul (local.get $kfW) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1)))
        (f64x2.mul (local.get $kfW) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))))
        (local.set $r2W (f64x2.mul (local.get $rW) (local.get $rW)))
        (local.set $r4W (f64x2.mul (local.get $r2W) (local.get $r2W)))
        (local.set $q0W (f64x2.add (f64x2.add (v128.const f64x2 1 1) (local.get $rW))
        (f64x2.mul (local.get $r2W) (f64x2.add (v128.const f64x2 0x1p-1 0x1p-1) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3))))))
        (local.set $q1W (f64x2.add
        (f64x2.add (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7)))
        (f64x2.mul (local.get $r2W) (f64x2.add (v128.const f64x2 0x1.6c16c16c16c17p-10 0x1.6c16c16c16c17p-10) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.a01a01a01a01ap-13 0x1.a01a01a01a01ap-13))))))
        (local.set $q2W (f64x2.add (f64x2.add
        (f64x2.add (v128.const f64x2 0x1.a01a01a01a01ap-16 0x1.a01a01a01a01ap-16) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.71de3a556c734p-19 0x1.71de3a556c734p-19)))
        (f64x2.mul (local.get $r2W) (f64x2.add (v128.const f64x2 0x1.27e4fb7789f5cp-22 0x1.27e4fb7789f5cp-22) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.ae64567f544e4p-26 0x1.ae64567f544e4p-26)))))
        (f64x2.mul (local.get $r4W) (f64x2.add (v128.const f64x2 0x1.1eed8eff8d898p-29 0x1.1eed8eff8d898p-29) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.6124613a86d09p-33 0x1.6124613a86d09p-33))))))
        (local.set $yW (f64x2.add (local.get $q0W) (f64x2.mul (local.get $r4W) (f64x2.add (local.get $q1W) (f64x2.mul (local.get $r4W) (local.get $q2W))))))
        (local.set $k1W (i64x2.shr_s (local.get $kiW) (i32.const 1)))
        (local.set $yW (f64x2.mul (f64x2.mul (local.get $yW) (i64x2.shl (i64x2.add (local.get $k1W) (v128.const i64x2 1023 1023)) (i32.const 52)))
        (i64x2.shl (i64x2.add (i64x2.sub (local.get $kiW) (local.get $k1W)) (v128.const i64x2 1023 1023)) (i32.const 52))))
        (local.set $wv (v128.bitselect (v128.const f64x2 0 0) (local.get $yW) (f64x2.lt (local.get $xW) (v128.const f64x2 -745.2 -745.2))))
        (v128.store (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 3))) (local.get $wv))
        (local.set $wi (f64x2.extract_lane 1 (local.get $wv)))
        (local.set $returned (f64.add (local.get $returned) (local.get $wi)))
        (local.set $sumWV (f64.add (local.get $sumWV) (f64.mul (local.get $wi) (f64x2.extract_lane 1 (local.get $c)))))
        (if (local.get $mass)
          (then
            (local.set $xU (local.get $c))
            (local.set $xcU (f64x2.pmin (v128.const f64x2 710 710) (f64x2.pmax (v128.const f64x2 -746 -746) (local.get $xU))))
            (local.set $kdU (f64x2.add (f64x2.mul (local.get $xcU) (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
            (local.set $kfU (f64x2.sub (local.get $kdU) (v128.const f64x2 0x1.8p52 0x1.8p52)))
            (local.set $kiU (i64x2.sub (local.get $kdU) (v128.const f64x2 0x1.8p52 0x1.8p52)))
            (local.set $rU (f64x2.sub (f64x2.sub (local.get $xcU) (f64x2.mul (local.get $kfU) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1)))
            (f64x2.mul (local.get $kfU) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))))
            (local.set $r2U (f64x2.mul (local.get $rU) (local.get $rU)))
            (local.set $r4U (f64x2.mul (local.get $r2U) (local.get $r2U)))
            (local.set $q0U (f64x2.add (f64x2.add (v128.const f64x2 1 1) (local.get $rU))
            (f64x2.mul (local.get $r2U) (f64x2.add (v128.const f64x2 0x1p-1 0x1p-1) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3))))))
            (local.set $q1U (f64x2.add
            (f64x2.add (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7)))
            (f64x2.mul (local.get $r2U) (f64x2.add (v128.const f64x2 0x1.6c16c16c16c17p-10 0x1.6c16c16c16c17p-10) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.a01a01a01a01ap-13 0x1.a01a01a01a01ap-13))))))
            (local.set $q2U (f64x2.add (f64x2.add
            (f64x2.add (v128.const f64x2 0x1.a01a01a01a01ap-16 0x1.a01a01a01a01ap-16) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.71de3a556c734p-19 0x1.71de3a556c734p-19)))
            (f64x2.mul (local.get $r2U) (f64x2.add (v128.const f64x2 0x1.27e4fb7789f5cp-22 0x1.27e4fb7789f5cp-22) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.ae64567f544e4p-26 0x1.ae64567f544e4p-26)))))
            (f64x2.mul (local.get $r4U) (f64x2.add (v128.const f64x2 0x1.1eed8eff8d898p-29 0x1.1eed8eff8d898p-29) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.6124613a86d09p-33 0x1.6124613a86d09p-33))))))
            (local.set $yU (f64x2.add (local.get $q0U) (f64x2.mul (local.get $r4U) (f64x2.add (local.get $q1U) (f64x2.mul (local.get $r4U) (local.get $q2U))))))
            (local.set $k1U (i64x2.shr_s (local.get $kiU) (i32.const 1)))
            (local.set $yU (f64x2.mul (f64x2.mul (local.get $yU) (i64x2.shl (i64x2.add (local.get $k1U) (v128.const i64x2 1023 1023)) (i32.const 52)))
            (i64x2.shl (i64x2.add (i64x2.sub (local.get $kiU) (local.get $k1U)) (v128.const i64x2 1023 1023)) (i32.const 52))))
            (local.set $uv (v128.bitselect (v128.const f64x2 0 0) (local.get $yU) (f64x2.lt (local.get $xU) (v128.const f64x2 -745.2 -745.2))))
                (local.set $mass1 (f64.add (local.get $mass1) (f64x2.extract_lane 1 (local.get $uv))))))
        (if (i32.ge_s (local.get $i) (i32.const 0))
          (then
            (local.set $wi (f64x2.extract_lane 0 (local.get $wv)))
            (local.set $returned (f64.add (local.get $returned) (local.get $wi)))
            (local.set $sumWV (f64.add (local.get $sumWV) (f64.mul (local.get $wi) (f64x2.extract_lane 0 (local.get $c)))))
            (if (local.get $mass)
              (then (local.set $mass1 (f64.add (local.get $mass1) (f64x2.extract_lane 0 (local.get $uv))))))))
        (local.set $i (i32.sub (local.get $i) (i32.const 2)))
        (br $pairs)))
    (f64.store (i32.const 0) (local.get $returned))
    (f64.store (i32.const 8) (local.get $sumWV))
    (f64.store (i32.const 16) (local.get $mass1)))

  ;; $weigh for slices whose every exp argument is at least -708 (the caller checks the slice's
  ;; smallest clamped log-prob): there e^x is normal, so the clamp, the zero below -745.2 and the
  ;; two-step scaling change nothing (multiplying a normal result by 2^k1, then by 2^(k-k1), is
  ;; exact) and are left out: the same bits, fewer instructions. test/core/wasmKernel.test.ts
  ;; checks both give the same sums and weights.
  (func $weighNormal (param $src i32) (param $w i32) (param $n i32) (param $vmax f64) (param $invT f64) (param $mass i32)
    (local $i i32) (local $c v128) (local $wv v128) (local $uv v128)
    (local $kdW v128) (local $kfW v128) (local $kiW v128) (local $rW v128) (local $r2W v128) (local $r4W v128) (local $q0W v128) (local $q1W v128) (local $q2W v128) (local $yW v128) (local $xW v128)
    (local $kdU v128) (local $kfU v128) (local $kiU v128) (local $rU v128) (local $r2U v128) (local $r4U v128) (local $q0U v128) (local $q1U v128) (local $q2U v128) (local $yU v128) (local $xU v128)
    (local $returned f64) (local $sumWV f64) (local $mass1 f64) (local $wi f64)
    (local.set $i (i32.sub (local.get $n) (i32.const 2)))
    (block $done
      (loop $pairs
        (br_if $done (i32.lt_s (local.get $i) (i32.const -1)))
        ;; lanes: entry i (lane 0) and i + 1 (lane 1)
        (local.set $c (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $xW (f64x2.mul (f64x2.sub (local.get $c) (f64x2.splat (local.get $vmax))) (f64x2.splat (local.get $invT))))
        (local.set $kdW (f64x2.add (f64x2.mul (local.get $xW) (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $kfW (f64x2.sub (local.get $kdW) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $kiW (i64x2.sub (local.get $kdW) (v128.const f64x2 0x1.8p52 0x1.8p52)))
        (local.set $rW (f64x2.sub (f64x2.sub (local.get $xW) (f64x2.mul (local.get $kfW) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1)))
        (f64x2.mul (local.get $kfW) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))))
        (local.set $r2W (f64x2.mul (local.get $rW) (local.get $rW)))
        (local.set $r4W (f64x2.mul (local.get $r2W) (local.get $r2W)))
        (local.set $q0W (f64x2.add (f64x2.add (v128.const f64x2 1 1) (local.get $rW))
        (f64x2.mul (local.get $r2W) (f64x2.add (v128.const f64x2 0x1p-1 0x1p-1) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3))))))
        (local.set $q1W (f64x2.add
        (f64x2.add (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7)))
        (f64x2.mul (local.get $r2W) (f64x2.add (v128.const f64x2 0x1.6c16c16c16c17p-10 0x1.6c16c16c16c17p-10) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.a01a01a01a01ap-13 0x1.a01a01a01a01ap-13))))))
        (local.set $q2W (f64x2.add (f64x2.add
        (f64x2.add (v128.const f64x2 0x1.a01a01a01a01ap-16 0x1.a01a01a01a01ap-16) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.71de3a556c734p-19 0x1.71de3a556c734p-19)))
        (f64x2.mul (local.get $r2W) (f64x2.add (v128.const f64x2 0x1.27e4fb7789f5cp-22 0x1.27e4fb7789f5cp-22) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.ae64567f544e4p-26 0x1.ae64567f544e4p-26)))))
        (f64x2.mul (local.get $r4W) (f64x2.add (v128.const f64x2 0x1.1eed8eff8d898p-29 0x1.1eed8eff8d898p-29) (f64x2.mul (local.get $rW) (v128.const f64x2 0x1.6124613a86d09p-33 0x1.6124613a86d09p-33))))))
        (local.set $yW (f64x2.add (local.get $q0W) (f64x2.mul (local.get $r4W) (f64x2.add (local.get $q1W) (f64x2.mul (local.get $r4W) (local.get $q2W))))))
        (local.set $yW (f64x2.mul (local.get $yW) (i64x2.shl (i64x2.add (local.get $kiW) (v128.const i64x2 1023 1023)) (i32.const 52))))
        (local.set $wv (local.get $yW))
        (v128.store (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 3))) (local.get $wv))
        (local.set $wi (f64x2.extract_lane 1 (local.get $wv)))
        (local.set $returned (f64.add (local.get $returned) (local.get $wi)))
        (local.set $sumWV (f64.add (local.get $sumWV) (f64.mul (local.get $wi) (f64x2.extract_lane 1 (local.get $c)))))
        (if (local.get $mass)
          (then
            (local.set $xU (local.get $c))
            (local.set $kdU (f64x2.add (f64x2.mul (local.get $xU) (v128.const f64x2 0x1.71547652b82fep+0 0x1.71547652b82fep+0)) (v128.const f64x2 0x1.8p52 0x1.8p52)))
            (local.set $kfU (f64x2.sub (local.get $kdU) (v128.const f64x2 0x1.8p52 0x1.8p52)))
            (local.set $kiU (i64x2.sub (local.get $kdU) (v128.const f64x2 0x1.8p52 0x1.8p52)))
            (local.set $rU (f64x2.sub (f64x2.sub (local.get $xU) (f64x2.mul (local.get $kfU) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1)))
            (f64x2.mul (local.get $kfU) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33))))
            (local.set $r2U (f64x2.mul (local.get $rU) (local.get $rU)))
            (local.set $r4U (f64x2.mul (local.get $r2U) (local.get $r2U)))
            (local.set $q0U (f64x2.add (f64x2.add (v128.const f64x2 1 1) (local.get $rU))
            (f64x2.mul (local.get $r2U) (f64x2.add (v128.const f64x2 0x1p-1 0x1p-1) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.5555555555555p-3 0x1.5555555555555p-3))))))
            (local.set $q1U (f64x2.add
            (f64x2.add (v128.const f64x2 0x1.5555555555555p-5 0x1.5555555555555p-5) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.1111111111111p-7 0x1.1111111111111p-7)))
            (f64x2.mul (local.get $r2U) (f64x2.add (v128.const f64x2 0x1.6c16c16c16c17p-10 0x1.6c16c16c16c17p-10) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.a01a01a01a01ap-13 0x1.a01a01a01a01ap-13))))))
            (local.set $q2U (f64x2.add (f64x2.add
            (f64x2.add (v128.const f64x2 0x1.a01a01a01a01ap-16 0x1.a01a01a01a01ap-16) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.71de3a556c734p-19 0x1.71de3a556c734p-19)))
            (f64x2.mul (local.get $r2U) (f64x2.add (v128.const f64x2 0x1.27e4fb7789f5cp-22 0x1.27e4fb7789f5cp-22) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.ae64567f544e4p-26 0x1.ae64567f544e4p-26)))))
            (f64x2.mul (local.get $r4U) (f64x2.add (v128.const f64x2 0x1.1eed8eff8d898p-29 0x1.1eed8eff8d898p-29) (f64x2.mul (local.get $rU) (v128.const f64x2 0x1.6124613a86d09p-33 0x1.6124613a86d09p-33))))))
            (local.set $yU (f64x2.add (local.get $q0U) (f64x2.mul (local.get $r4U) (f64x2.add (local.get $q1U) (f64x2.mul (local.get $r4U) (local.get $q2U))))))
            (local.set $yU (f64x2.mul (local.get $yU) (i64x2.shl (i64x2.add (local.get $kiU) (v128.const i64x2 1023 1023)) (i32.const 52))))
            (local.set $uv (local.get $yU))
                (local.set $mass1 (f64.add (local.get $mass1) (f64x2.extract_lane 1 (local.get $uv))))))
        (if (i32.ge_s (local.get $i) (i32.const 0))
          (then
            (local.set $wi (f64x2.extract_lane 0 (local.get $wv)))
            (local.set $returned (f64.add (local.get $returned) (local.get $wi)))
            (local.set $sumWV (f64.add (local.get $sumWV) (f64.mul (local.get $wi) (f64x2.extract_lane 0 (local.get $c)))))
            (if (local.get $mass)
              (then (local.set $mass1 (f64.add (local.get $mass1) (f64x2.extract_lane 0 (local.get $uv))))))))
        (local.set $i (i32.sub (local.get $i) (i32.const 2)))
        (br $pairs)))
    (f64.store (i32.const 0) (local.get $returned))
    (f64.store (i32.const 8) (local.get $sumWV))
    (f64.store (i32.const 16) (local.get $mass1)))

  ;; The pass over one slice (tokenSignals.ts, scanAndWeigh), last entry first, over the ids at
  ;; $ids (i32) and raw log-probs at $raw (f64): validates (raw <= 1e-6, else status 1), tracks the
  ;; order (descending, canonical: ties by id), the smallest raw value, its entry and the next
  ;; smallest, clamps c = max(raw, floor) into $cs and takes vmax = max c, inserts every id into
  ;; the open-addressing table at $tab (status 2 for an id seen twice), finds the taken token's
  ;; entry; then weighs ($weigh). Writes at memory 24: vmax, min, second (f64), minAt,
  ;; tokenAt, descending, canonical (i32); returns 0, or the status of the first bad entry.
  ;; Table: keys at $tab, values at $tab + 4·size, stamps at $tab + 8·size (size = mask + 1); a
  ;; slot is used when its stamp is $gen; h = (id·0x9e3779b1) >> shift, linear probing.
  (func (export "scanWeigh") (param $ids i32) (param $raw i32) (param $cs i32) (param $w i32) (param $n i32) (param $token i32)
        (param $floor f64) (param $invT f64) (param $mass i32) (param $tab i32) (param $mask i32) (param $shift i32) (param $gen i32) (result i32)
    (local $i i32) (local $lp f64) (local $id i32) (local $next f64) (local $nextId i32) (local $desc i32) (local $canon i32)
    (local $min f64) (local $minAt i32) (local $second f64) (local $c f64) (local $vmax f64) (local $tokenAt i32)
    (local $h i32) (local $vals i32) (local $stamps i32)
    (local $exact i32)
    (local.set $vals (i32.add (local.get $tab) (i32.shl (i32.add (local.get $mask) (i32.const 1)) (i32.const 2))))
    (local.set $stamps (i32.add (local.get $tab) (i32.shl (i32.add (local.get $mask) (i32.const 1)) (i32.const 3))))
    (local.set $next (f64.const -inf))
    (local.set $min (f64.const inf))
    (local.set $second (f64.const inf))
    (local.set $vmax (f64.const -inf))
    (local.set $desc (i32.const 1))
    (local.set $canon (i32.const 1))
    (local.set $minAt (i32.const -1))
    (local.set $tokenAt (i32.const -1))
    (local.set $i (i32.sub (local.get $n) (i32.const 1)))
    (block $done
      (loop $entries
        (br_if $done (i32.lt_s (local.get $i) (i32.const 0)))
        (local.set $lp (f64.load (i32.add (local.get $raw) (i32.shl (local.get $i) (i32.const 3)))))
        ;; NaN fails the comparison; -inf is a valid log-prob (clamped)
        (if (i32.eqz (f64.le (local.get $lp) (f64.const 1e-6))) (then (return (i32.const 1))))
        (local.set $id (i32.load (i32.add (local.get $ids) (i32.shl (local.get $i) (i32.const 2)))))
        (if (f64.lt (local.get $lp) (local.get $next))
          (then (local.set $desc (i32.const 0)) (local.set $canon (i32.const 0)))
          (else (if (i32.and (f64.eq (local.get $lp) (local.get $next)) (i32.gt_s (local.get $id) (local.get $nextId)))
                  (then (local.set $canon (i32.const 0))))))
        (local.set $next (local.get $lp))
        (local.set $nextId (local.get $id))
        (if (f64.le (local.get $lp) (local.get $min))
          (then (local.set $second (local.get $min)) (local.set $min (local.get $lp)) (local.set $minAt (local.get $i)))
          (else (if (f64.lt (local.get $lp) (local.get $second)) (then (local.set $second (local.get $lp))))))
        (local.set $c (select (local.get $lp) (local.get $floor) (f64.gt (local.get $lp) (local.get $floor))))
        (f64.store (i32.add (local.get $cs) (i32.shl (local.get $i) (i32.const 3))) (local.get $c))
        (if (f64.gt (local.get $c) (local.get $vmax)) (then (local.set $vmax (local.get $c))))
        (local.set $h (i32.shr_u (i32.mul (local.get $id) (i32.const 0x9e3779b1)) (local.get $shift)))
        (block $free
          (loop $probe
            (br_if $free (i32.ne (i32.load (i32.add (local.get $stamps) (i32.shl (local.get $h) (i32.const 2)))) (local.get $gen)))
            (if (i32.eq (i32.load (i32.add (local.get $tab) (i32.shl (local.get $h) (i32.const 2)))) (local.get $id)) (then (return (i32.const 2))))
            (local.set $h (i32.and (i32.add (local.get $h) (i32.const 1)) (local.get $mask)))
            (br $probe)))
        (i32.store (i32.add (local.get $stamps) (i32.shl (local.get $h) (i32.const 2))) (local.get $gen))
        (i32.store (i32.add (local.get $tab) (i32.shl (local.get $h) (i32.const 2))) (local.get $id))
        (i32.store (i32.add (local.get $vals) (i32.shl (local.get $h) (i32.const 2))) (local.get $i))
        (if (i32.eq (local.get $id) (local.get $token)) (then (local.set $tokenAt (local.get $i))))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $entries)))
    (f64.store (i32.const 24) (local.get $vmax))
    (f64.store (i32.const 32) (local.get $min))
    (f64.store (i32.const 40) (local.get $second))
    (i32.store (i32.const 48) (local.get $minAt))
    (i32.store (i32.const 52) (local.get $tokenAt))
    (i32.store (i32.const 56) (local.get $desc))
    (i32.store (i32.const 60) (local.get $canon))
    ;; Every argument at least -708 (w's (c - vmax)·invT, and c itself where the mass is summed) when
    ;; the smallest clamped log-prob's are (c ≥ max(min, floor), rounding is monotonic): $weighNormal.
    ;; A slice whose largest probability is at least 0.99 leaves at most 1% unreturned, where the
    ;; caller would sum the mass again with Math.exp's bits: it is summed so here ($exactMass)
    ;; instead of by $weigh's exp (writes 1 at memory 108; else 0).
    (local.set $exact (i32.and (i32.ne (local.get $mass) (i32.const 0)) (f64.ge (local.get $vmax) (f64.const -0x1.495453e6fd4bcp-7))))
    (if (local.get $exact) (then (local.set $mass (i32.const 0))))
    (local.set $c (select (local.get $min) (local.get $floor) (f64.gt (local.get $min) (local.get $floor))))
    (if (i32.and
          (f64.ge (f64.mul (f64.sub (local.get $c) (local.get $vmax)) (local.get $invT)) (f64.const -708))
          (i32.or (i32.eqz (local.get $mass)) (f64.ge (local.get $c) (f64.const -708))))
      (then (call $weighNormal (local.get $cs) (local.get $w) (local.get $n) (local.get $vmax) (local.get $invT) (local.get $mass)))
      (else (call $weigh (local.get $cs) (local.get $w) (local.get $n) (local.get $vmax) (local.get $invT) (local.get $mass))))
    (if (local.get $exact) (then (f64.store (i32.const 16) (call $exactMass (local.get $cs) (local.get $n)))))
    (i32.store (i32.const 108) (local.get $exact))
    (i32.const 0))

  ;; The paired pass (tokenSignals.ts, computeAt): A's clamped log-probs $ac aligned on S's entries
  ;; through S's table ($aOnS, $aMissing where A did not return the token), A_t's masses cA = Σ wA
  ;; and cS = Σ wS over A_t's tokens S returned, and how many it did not (A_t: every entry for
  ;; $mode 0, the first $kCov for 1, the entries whose byte at $flags is 1 for 2); then over S:
  ;; variance += p·d·d, entropy -= p·((v − vmax)·invT − logR), kl += w·((v − aOnS)·invT + dZ), with
  ;; p = w·invR, d = v − mean. Writes at memory 64: cA, cS, variance, entropy, kl (f64), missing (i32).
  (func (export "pair") (param $sc i32) (param $sw i32) (param $ac i32) (param $aw i32) (param $aIds i32) (param $aOnS i32) (param $flags i32)
        (param $K i32) (param $KA i32) (param $mode i32) (param $kCov i32) (param $aMissing f64)
        (param $tab i32) (param $mask i32) (param $shift i32) (param $gen i32)
        (param $invR f64) (param $mean f64) (param $vmax f64) (param $invT f64) (param $logR f64) (param $dZ f64)
    (local $i i32) (local $j i32) (local $id i32) (local $h i32) (local $idx i32) (local $vals i32) (local $stamps i32)
    (local $cA f64) (local $cS f64) (local $missing i32) (local $v f64) (local $w f64) (local $p f64) (local $d f64)
    (local $variance f64) (local $entropy f64) (local $kl f64)
    (local.set $vals (i32.add (local.get $tab) (i32.shl (i32.add (local.get $mask) (i32.const 1)) (i32.const 2))))
    (local.set $stamps (i32.add (local.get $tab) (i32.shl (i32.add (local.get $mask) (i32.const 1)) (i32.const 3))))
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_s (local.get $i) (local.get $K)))
        (f64.store (i32.add (local.get $aOnS) (i32.shl (local.get $i) (i32.const 3))) (local.get $aMissing))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (block $matched
      (loop $match
        (br_if $matched (i32.ge_s (local.get $j) (local.get $KA)))
        (local.set $id (i32.load (i32.add (local.get $aIds) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $h (i32.shr_u (i32.mul (local.get $id) (i32.const 0x9e3779b1)) (local.get $shift)))
        (local.set $idx (i32.const -1))
        (block $found
          (loop $probe
            (br_if $found (i32.ne (i32.load (i32.add (local.get $stamps) (i32.shl (local.get $h) (i32.const 2)))) (local.get $gen)))
            (if (i32.eq (i32.load (i32.add (local.get $tab) (i32.shl (local.get $h) (i32.const 2)))) (local.get $id))
              (then (local.set $idx (i32.load (i32.add (local.get $vals) (i32.shl (local.get $h) (i32.const 2))))) (br $found)))
            (local.set $h (i32.and (i32.add (local.get $h) (i32.const 1)) (local.get $mask)))
            (br $probe)))
        (if (i32.ge_s (local.get $idx) (i32.const 0))
          (then (f64.store (i32.add (local.get $aOnS) (i32.shl (local.get $idx) (i32.const 3)))
                           (f64.load (i32.add (local.get $ac) (i32.shl (local.get $j) (i32.const 3)))))))
        (if (select (i32.const 1)
                    (select (i32.lt_s (local.get $j) (local.get $kCov)) (i32.load8_u (i32.add (local.get $flags) (local.get $j))) (i32.eq (local.get $mode) (i32.const 1)))
                    (i32.eqz (local.get $mode)))
          (then
            (local.set $cA (f64.add (local.get $cA) (f64.load (i32.add (local.get $aw) (i32.shl (local.get $j) (i32.const 3))))))
            (if (i32.ge_s (local.get $idx) (i32.const 0))
              (then (local.set $cS (f64.add (local.get $cS) (f64.load (i32.add (local.get $sw) (i32.shl (local.get $idx) (i32.const 3)))))))
              (else (local.set $missing (i32.add (local.get $missing) (i32.const 1)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $match)))
    (local.set $i (i32.const 0))
    (block $summed
      (loop $sum
        (br_if $summed (i32.ge_s (local.get $i) (local.get $K)))
        (local.set $v (f64.load (i32.add (local.get $sc) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $w (f64.load (i32.add (local.get $sw) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $p (f64.mul (local.get $w) (local.get $invR)))
        (local.set $d (f64.sub (local.get $v) (local.get $mean)))
        (local.set $variance (f64.add (local.get $variance) (f64.mul (f64.mul (local.get $p) (local.get $d)) (local.get $d))))
        (local.set $entropy (f64.sub (local.get $entropy)
          (f64.mul (local.get $p) (f64.sub (f64.mul (f64.sub (local.get $v) (local.get $vmax)) (local.get $invT)) (local.get $logR)))))
        (local.set $kl (f64.add (local.get $kl)
          (f64.mul (local.get $w) (f64.add (f64.mul (f64.sub (local.get $v) (f64.load (i32.add (local.get $aOnS) (i32.shl (local.get $i) (i32.const 3))))) (local.get $invT)) (local.get $dZ)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sum)))
    (f64.store (i32.const 64) (local.get $cA))
    (f64.store (i32.const 72) (local.get $cS))
    (f64.store (i32.const 80) (local.get $variance))
    (f64.store (i32.const 88) (local.get $entropy))
    (f64.store (i32.const 96) (local.get $kl))
    (i32.store (i32.const 104) (local.get $missing)))

  ;; exp of src[0..n) into dst[0..n) (n even), for the accuracy test.
  (func (export "expArray") (param $src i32) (param $dst i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
          (call $expv (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs))))
)
