;; Stepping over a JSON object or array held in this module's memory, 16 bytes at a time
;; (WebAssembly SIMD). Compiled by scripts/build-wasm.mjs into jsonSkipWasm.ts; wasmJsonBuffer.ts
;; holds the bytes here and jsonScan.ts's skipValue calls it for every container in them.
;;
;; It does what skipValue's JavaScript loop does, and nothing more (no validation): outside
;; strings it counts { [ against } ], inside strings it looks only for the closing quote, a
;; backslash taking the byte after it along. The caller keeps 16 readable bytes after `end`
;; (loads may look past it; what lies there is never used).
(module
  (memory (export "memory") 1)

  ;; From `i`, outside any string, `depth` brackets deep in a container: the offset just after
  ;; the `}` or `]` that closes it, or -1 when `end` comes first (the container is cut by the end
  ;; of the window). From a container's opening bracket, `depth` is 0.
  (func (export "skipContainer") (param $i i32) (param $end i32) (param $depth i32) (result i32)
    (local $c i32) (local $v v128) (local $lower v128) (local $m i32)
    (block $cut
      (loop $next
        ;; Outside strings: on to the next `"`, `{`, `[`, `}` or `]` (`{ [` and `} ]` differ by 0x20).
        (block $found
          (loop $scan
            (br_if $cut (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $v (v128.load align=1 (local.get $i)))
            (local.set $lower (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))))
            (local.set $m (i8x16.bitmask
              (v128.or
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22)))
                (v128.or
                  (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7b)))
                  (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7d)))))))
            (if (local.get $m)
              (then
                (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
                (br $found)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $scan)))
        (br_if $cut (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 0x22))
          (then
            ;; Inside a string: on to the next `"` or `\`; a `\` takes the next byte along.
            (loop $string
              (br_if $cut (i32.ge_u (local.get $i) (local.get $end)))
              (local.set $v (v128.load align=1 (local.get $i)))
              (local.set $m (i8x16.bitmask
                (v128.or
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22)))
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))))
              (if (i32.eqz (local.get $m))
                (then
                  (local.set $i (i32.add (local.get $i) (i32.const 16)))
                  (br $string)))
              (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
              (br_if $cut (i32.ge_u (local.get $i) (local.get $end)))
              (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x5c))
                (then
                  (local.set $i (i32.add (local.get $i) (i32.const 2)))
                  (br $string)))
              (local.set $i (i32.add (local.get $i) (i32.const 1))))
            (br $next)))
        (if (i32.eq (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x7b))
          (then
            (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
            (br $next)))
        (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
        (if (i32.eqz (local.get $depth))
          (then (return (local.get $i))))
        (br $next)))
    (i32.const -1))
)
