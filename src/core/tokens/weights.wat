;; The exp-heavy pass of the token-signal kernel (tokenSignals.ts) in WebAssembly SIMD, two
;; entries at a time: w_i = exp((c_i - vmax) * invT), Σ w, Σ w·c and, for raw log-probs, Σ exp(c_i),
;; for the clamped log-probs c_i the caller wrote into memory.
;;
;; exp: x = k·ln2 + r (k = round(x·log2 e) by the 1.5·2^52 shifter, ln2 split as in fdlibm so
;; k·ln2HI is exact), e^r by its degree-13 Taylor polynomial in Estrin form (truncation < 5e-18
;; for |r| <= ln2/2), times 2^(k>>1)·2^(k-(k>>1)) so subnormal results round once; x < -745.2
;; gives 0. Within 2 ulp of Math.exp (test/core/wasmWeights.test.ts), about 1.6x faster in V8.
;; Inputs are clamped to [-746, 710] first, so no lane computes on subnormals (slow on x86).
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

  ;; For c[0..n) at $src: w[i] = exp((c[i] - vmax) * invT) at $w; writes at memory 0, 8, 16:
  ;; Σ w, Σ w·c and (when $mass) Σ exp(c), each summed from the last entry to the first.
  ;; c[-1] and w[-1] must be writable scratch (an odd n computes one extra lane there).
  (func (export "weigh") (param $src i32) (param $w i32) (param $n i32) (param $vmax f64) (param $invT f64) (param $mass i32)
    (local $i i32) (local $c v128) (local $wv v128) (local $uv v128)
    (local $returned f64) (local $sumWV f64) (local $mass1 f64) (local $wi f64)
    (local.set $i (i32.sub (local.get $n) (i32.const 2)))
    (block $done
      (loop $pairs
        (br_if $done (i32.lt_s (local.get $i) (i32.const -1)))
        ;; lanes: entry i (lane 0) and i + 1 (lane 1)
        (local.set $c (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $wv (call $expv (f64x2.mul (f64x2.sub (local.get $c) (f64x2.splat (local.get $vmax))) (f64x2.splat (local.get $invT)))))
        (v128.store (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 3))) (local.get $wv))
        (local.set $wi (f64x2.extract_lane 1 (local.get $wv)))
        (local.set $returned (f64.add (local.get $returned) (local.get $wi)))
        (local.set $sumWV (f64.add (local.get $sumWV) (f64.mul (local.get $wi) (f64x2.extract_lane 1 (local.get $c)))))
        (if (local.get $mass)
          (then (local.set $uv (call $expv (local.get $c)))
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
