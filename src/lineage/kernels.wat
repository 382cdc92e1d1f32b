;; Hot loops of the arith-lineage transformer, float32, WebAssembly SIMD (f32x4).
;; Compiled by scripts/build-wasm.mjs (wabt) into src/lineage/kernelsBinary.ts.
;;
;; Every pointer is a byte offset into the imported memory; every length a count of floats.
;; Each output is computed the same way whatever the batch: a row's result never depends on
;; which other rows share the call (so batched decode equals one-at-a-time, bit for bit).
(module
  (memory (import "env" "memory") 1)

  ;; [Σ a0, Σ a1, Σ a2, Σ a3]: four horizontal sums at once, each ((x0 + x2) + (x1 + x3)).
  (func $hsum4 (param $a0 v128) (param $a1 v128) (param $a2 v128) (param $a3 v128) (result v128)
    (local $s01 v128) (local $s23 v128)
    ;; s01 = [a0₀+a0₂, a1₀+a1₂, a0₁+a0₃, a1₁+a1₃]
    (local.set $s01 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
    (local.set $s23 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $s01) (local.get $s23))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $s01) (local.get $s23))))

  ;; Σ a: one horizontal sum, in the same order as $hsum4 ((x0 + x2) + (x1 + x3)).
  (func $hsum (param $a v128) (result f32)
    (local $s v128)
    (local.set $s (f32x4.add (local.get $a)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a))))
    (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s))))

  ;; y[o … o+3] = (accumulate ? y[o … o+3] : 0) + (sums + b[o … o+3]) for one row starting at y.
  (func $store4 (param $b i32) (param $o i32) (param $y i32) (param $accumulate i32) (param $sums v128)
    (local $at i32)
    (if (local.get $b) (then
      (local.set $sums (f32x4.add (local.get $sums) (v128.load (i32.add (local.get $b) (i32.shl (local.get $o) (i32.const 2))))))))
    (local.set $at (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 2))))
    (if (local.get $accumulate) (then
      (local.set $sums (f32x4.add (v128.load (local.get $at)) (local.get $sums)))))
    (v128.store (local.get $at) (local.get $sums)))

  ;; y[r, o] = (accumulate ? y[r, o] : 0) + (Σ_i x[r, i]·W[o, i] + b[o])
  ;; x [rows, in], W [out, in] (PyTorch's layout), b [out] (b = 0: no bias), y [rows, out].
  ;; in and out are multiples of 4. Two rows × four outputs per inner loop; W's four rows stay
  ;; in cache while every row pair passes over them.
  (func (export "linear")
    (param $x i32) (param $rows i32) (param $in i32) (param $w i32) (param $b i32)
    (param $out i32) (param $y i32) (param $accumulate i32)
    (local $inBytes i32) (local $outBytes i32) (local $o i32) (local $r i32) (local $i i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $w4 i32) (local $w5 i32) (local $w6 i32) (local $w7 i32)
    (local $xa i32) (local $xb i32) (local $ya i32)
    (local $va v128) (local $vb v128)
    (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $inBytes (i32.shl (local.get $in) (i32.const 2)))
    (local.set $outBytes (i32.shl (local.get $out) (i32.const 2)))
    (local.set $o (i32.const 0))
    (block $doneO (loop $eachO
      (br_if $doneO (i32.ge_u (local.get $o) (local.get $out)))
      (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $inBytes))))
      (local.set $w1 (i32.add (local.get $w0) (local.get $inBytes)))
      (local.set $w2 (i32.add (local.get $w1) (local.get $inBytes)))
      (local.set $w3 (i32.add (local.get $w2) (local.get $inBytes)))
      (local.set $r (i32.const 0))
      ;; two rows at a time
      (block $donePairs (loop $eachPair
        (br_if $donePairs (i32.ge_u (i32.add (local.get $r) (i32.const 1)) (local.get $rows)))
        (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $inBytes))))
        (local.set $xb (i32.add (local.get $xa) (local.get $inBytes)))
        (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $c0 (v128.const f32x4 0 0 0 0)) (local.set $c1 (v128.const f32x4 0 0 0 0))
        (local.set $c2 (v128.const f32x4 0 0 0 0)) (local.set $c3 (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (loop $dot2
          (local.set $va (v128.load (i32.add (local.get $xa) (local.get $i))))
          (local.set $vb (v128.load (i32.add (local.get $xb) (local.get $i))))
          (local.set $k0 (v128.load (i32.add (local.get $w0) (local.get $i))))
          (local.set $k1 (v128.load (i32.add (local.get $w1) (local.get $i))))
          (local.set $k2 (v128.load (i32.add (local.get $w2) (local.get $i))))
          (local.set $k3 (v128.load (i32.add (local.get $w3) (local.get $i))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $va) (local.get $k0))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $va) (local.get $k1))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $va) (local.get $k2))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $va) (local.get $k3))))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $vb) (local.get $k0))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $vb) (local.get $k1))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $vb) (local.get $k2))))
          (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $vb) (local.get $k3))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $dot2 (i32.lt_u (local.get $i) (local.get $inBytes))))
        (local.set $ya (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $outBytes))))
        (call $store4 (local.get $b) (local.get $o) (local.get $ya) (local.get $accumulate)
          (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
        (call $store4 (local.get $b) (local.get $o) (i32.add (local.get $ya) (local.get $outBytes)) (local.get $accumulate)
          (call $hsum4 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $eachPair)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $eachO)))
    ;; the odd last row, eight outputs at a time (eight independent sums), then four: each sum
    ;; in the same order as in the pairs above
    (if (i32.and (local.get $rows) (i32.const 1)) (then
      (local.set $r (i32.sub (local.get $rows) (i32.const 1)))
      (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $inBytes))))
      (local.set $ya (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $outBytes))))
      (local.set $o (i32.const 0))
      (block $doneO1 (loop $eachO1
        (br_if $doneO1 (i32.ge_u (local.get $o) (local.get $out)))
        (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $inBytes))))
        (local.set $w1 (i32.add (local.get $w0) (local.get $inBytes)))
        (local.set $w2 (i32.add (local.get $w1) (local.get $inBytes)))
        (local.set $w3 (i32.add (local.get $w2) (local.get $inBytes)))
        (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (if (i32.le_u (i32.add (local.get $o) (i32.const 8)) (local.get $out))
          (then
            (local.set $c0 (v128.const f32x4 0 0 0 0)) (local.set $c1 (v128.const f32x4 0 0 0 0))
            (local.set $c2 (v128.const f32x4 0 0 0 0)) (local.set $c3 (v128.const f32x4 0 0 0 0))
            (local.set $w4 (i32.add (local.get $w3) (local.get $inBytes)))
            (local.set $w5 (i32.add (local.get $w4) (local.get $inBytes)))
            (local.set $w6 (i32.add (local.get $w5) (local.get $inBytes)))
            (local.set $w7 (i32.add (local.get $w6) (local.get $inBytes)))
            (loop $dot8
              (local.set $va (v128.load (i32.add (local.get $xa) (local.get $i))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w0) (local.get $i))))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w1) (local.get $i))))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w2) (local.get $i))))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w3) (local.get $i))))))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w4) (local.get $i))))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w5) (local.get $i))))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w6) (local.get $i))))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w7) (local.get $i))))))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br_if $dot8 (i32.lt_u (local.get $i) (local.get $inBytes))))
            (call $store4 (local.get $b) (local.get $o) (local.get $ya) (local.get $accumulate)
              (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
            (call $store4 (local.get $b) (i32.add (local.get $o) (i32.const 4)) (local.get $ya) (local.get $accumulate)
              (call $hsum4 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)))
            (local.set $o (i32.add (local.get $o) (i32.const 8))))
          (else
            (loop $dot4
              (local.set $va (v128.load (i32.add (local.get $xa) (local.get $i))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w0) (local.get $i))))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w1) (local.get $i))))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w2) (local.get $i))))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $w3) (local.get $i))))))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br_if $dot4 (i32.lt_u (local.get $i) (local.get $inBytes))))
            (call $store4 (local.get $b) (local.get $o) (local.get $ya) (local.get $accumulate)
              (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))))
        (br $eachO1))))))

  ;; e^x for four lanes (Cephes expf: range reduction by ln 2 in two parts, degree-5
  ;; polynomial, 2^n by exponent bits); x is clamped to [-87.3, 88.3], so e^x stays a normal
  ;; float. Relative error about 2e-7.
  (func $exp4 (param $x v128) (result v128)
    (local $fx v128) (local $z v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))
                             (v128.const f32x4 88.3 88.3 88.3 88.3)))
    (local.set $fx (f32x4.floor (f32x4.add
      (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
      (v128.const f32x4 0.5 0.5 0.5 0.5))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (local.get $x)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $fx)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; x[i] ← e^{x[i]} for i < n (n a multiple of 4). For tests of $exp4.
  (func (export "exp") (param $x i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (v128.store (local.get $x) (call $exp4 (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $each))))

  ;; x[i] ← gelu_tanh(x[i]) = ½x(1 + tanh u) = x / (1 + e^{−2u}), u = √(2/π)(x + 0.044715x³),
  ;; for i < n (n a multiple of 4).
  (func (export "gelu") (param $x i32) (param $n i32)
    (local $end i32) (local $v v128) (local $u v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      ;; −2u = −2√(2/π)·(x + 0.044715x³)
      (local.set $u (f32x4.mul (v128.const f32x4 -1.5957691216057308 -1.5957691216057308 -1.5957691216057308 -1.5957691216057308)
        (f32x4.add (local.get $v)
          (f32x4.mul (v128.const f32x4 0.044715 0.044715 0.044715 0.044715)
            (f32x4.mul (local.get $v) (f32x4.mul (local.get $v) (local.get $v)))))))
      (v128.store (local.get $x)
        (f32x4.div (local.get $v) (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp4 (local.get $u)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $each))))

  ;; y[r] = (x[r] − mean) / √(var + eps) · γ + β for each of `rows` rows of d floats
  ;; (d a multiple of 4; var is the biased variance, as torch.nn.LayerNorm).
  (func (export "layerNorm")
    (param $x i32) (param $rows i32) (param $d i32) (param $gamma i32) (param $beta i32) (param $y i32) (param $eps f32)
    (local $bytes i32) (local $r i32) (local $i i32) (local $xr i32) (local $yr i32)
    (local $acc v128) (local $mean v128) (local $inv v128) (local $c v128) (local $dv v128)
    (local.set $bytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $dv (f32x4.splat (f32.convert_i32_u (local.get $d))))
    (local.set $r (i32.const 0))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $bytes))))
      (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $bytes))))
      ;; mean
      (local.set $acc (v128.const f32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (loop $sum
        (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $xr) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $sum (i32.lt_u (local.get $i) (local.get $bytes))))
      (local.set $mean (f32x4.div (f32x4.splat (call $hsum (local.get $acc))) (local.get $dv)))
      ;; variance
      (local.set $acc (v128.const f32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (loop $sq
        (local.set $c (f32x4.sub (v128.load (i32.add (local.get $xr) (local.get $i))) (local.get $mean)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $c) (local.get $c))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $sq (i32.lt_u (local.get $i) (local.get $bytes))))
      (local.set $inv (f32x4.splat (f32.div (f32.const 1)
        (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $d))) (local.get $eps))))))
      ;; normalize, scale, shift
      (local.set $i (i32.const 0))
      (loop $norm
        (v128.store (i32.add (local.get $yr) (local.get $i))
          (f32x4.add
            (f32x4.mul
              (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $xr) (local.get $i))) (local.get $mean)) (local.get $inv))
              (v128.load (i32.add (local.get $gamma) (local.get $i))))
            (v128.load (i32.add (local.get $beta) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $norm (i32.lt_u (local.get $i) (local.get $bytes))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $each))))

  ;; Causal self-attention of one query row over cached positions 0 … n−1, every head:
  ;;   out_h = Σ_t softmax_t(scale · q_h·k_{t,h}) · v_{t,h}
  ;; q: the row's queries [heads·hd]; k, v: the cache's first position, rows of `stride`
  ;; floats, readable up to position n rounded up to 4; scores: that many floats of scratch;
  ;; hd a multiple of 16. Scores run four positions at a time (four independent sums), the
  ;; weighted sum of values sixteen outputs at a time, in registers.
  (func (export "attend")
    (param $q i32) (param $k i32) (param $v i32) (param $n i32) (param $heads i32) (param $hd i32)
    (param $stride i32) (param $scale f32) (param $scores i32) (param $out i32)
    (local $h i32) (local $t i32) (local $i i32) (local $hdBytes i32) (local $strideBytes i32)
    (local $qh i32) (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32) (local $vt i32)
    (local $oh i32) (local $nb i32)
    (local $qv v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $mv v128) (local $sum v128) (local $wt v128) (local $e v128) (local $m f32) (local $inv f32)
    (local.set $hdBytes (i32.shl (local.get $hd) (i32.const 2)))
    (local.set $strideBytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $nb (i32.shl (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)) (i32.const 2)))
    (local.set $h (i32.const 0))
    (block $doneH (loop $eachH
      (br_if $doneH (i32.ge_u (local.get $h) (local.get $heads)))
      (local.set $qh (i32.add (local.get $q) (i32.mul (local.get $h) (local.get $hdBytes))))
      (local.set $oh (i32.add (local.get $out) (i32.mul (local.get $h) (local.get $hdBytes))))
      ;; s_t = scale · Σ_i q_i k_{t,i} for t … t+3; lanes at or past n are −∞; mv: lane-wise max
      (local.set $mv (v128.const f32x4 -inf -inf -inf -inf))
      (local.set $k0 (i32.add (local.get $k) (i32.mul (local.get $h) (local.get $hdBytes))))
      (local.set $t (i32.const 0))
      (block $doneS (loop $eachS
        (br_if $doneS (i32.ge_u (local.get $t) (local.get $n)))
        (local.set $k1 (i32.add (local.get $k0) (local.get $strideBytes)))
        (local.set $k2 (i32.add (local.get $k1) (local.get $strideBytes)))
        (local.set $k3 (i32.add (local.get $k2) (local.get $strideBytes)))
        (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (loop $dot
          (local.set $qv (v128.load (i32.add (local.get $qh) (local.get $i))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $qv) (v128.load (i32.add (local.get $k0) (local.get $i))))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $qv) (v128.load (i32.add (local.get $k1) (local.get $i))))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $qv) (v128.load (i32.add (local.get $k2) (local.get $i))))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $qv) (v128.load (i32.add (local.get $k3) (local.get $i))))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $dot (i32.lt_u (local.get $i) (local.get $hdBytes))))
        (local.set $e (v128.bitselect
          (f32x4.mul (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)) (f32x4.splat (local.get $scale)))
          (v128.const f32x4 -inf -inf -inf -inf)
          (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $t)) (v128.const i32x4 0 1 2 3)) (i32x4.splat (local.get $n)))))
        (v128.store (i32.add (local.get $scores) (i32.shl (local.get $t) (i32.const 2))) (local.get $e))
        (local.set $mv (f32x4.max (local.get $mv) (local.get $e)))
        (local.set $k0 (i32.add (local.get $k3) (local.get $strideBytes)))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $eachS)))
      (local.set $m (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $mv)) (f32x4.extract_lane 1 (local.get $mv)))
        (f32.max (f32x4.extract_lane 2 (local.get $mv)) (f32x4.extract_lane 3 (local.get $mv)))))
      ;; e_t = exp(s_t − max) (0 for the −∞ lanes), and their sum
      (local.set $sum (v128.const f32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $doneE (loop $eachE
        (br_if $doneE (i32.ge_u (local.get $i) (local.get $nb)))
        (local.set $e (v128.load (i32.add (local.get $scores) (local.get $i))))
        (local.set $e (v128.and
          (call $exp4 (f32x4.sub (local.get $e) (f32x4.splat (local.get $m))))
          (f32x4.ne (local.get $e) (v128.const f32x4 -inf -inf -inf -inf))))
        (v128.store (i32.add (local.get $scores) (local.get $i)) (local.get $e))
        (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $eachE)))
      (local.set $inv (f32.div (f32.const 1) (call $hsum (local.get $sum))))
      ;; out_h = Σ_t (e_t / Σe) v_t, sixteen outputs at a time
      (local.set $i (i32.const 0))
      (block $doneV (loop $eachV
        (br_if $doneV (i32.ge_u (local.get $i) (local.get $hdBytes)))
        (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $vt (i32.add (i32.add (local.get $v) (i32.mul (local.get $h) (local.get $hdBytes))) (local.get $i)))
        (local.set $t (i32.const 0))
        (loop $axpy
          (local.set $wt (f32x4.splat (f32.mul
            (f32.load (i32.add (local.get $scores) (i32.shl (local.get $t) (i32.const 2)))) (local.get $inv))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $wt) (v128.load (local.get $vt)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $wt) (v128.load offset=16 (local.get $vt)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $wt) (v128.load offset=32 (local.get $vt)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $wt) (v128.load offset=48 (local.get $vt)))))
          (local.set $vt (i32.add (local.get $vt) (local.get $strideBytes)))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br_if $axpy (i32.lt_u (local.get $t) (local.get $n))))
        (v128.store (i32.add (local.get $oh) (local.get $i)) (local.get $a0))
        (v128.store offset=16 (i32.add (local.get $oh) (local.get $i)) (local.get $a1))
        (v128.store offset=32 (i32.add (local.get $oh) (local.get $i)) (local.get $a2))
        (v128.store offset=48 (i32.add (local.get $oh) (local.get $i)) (local.get $a3))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $eachV)))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br $eachH))))
)
