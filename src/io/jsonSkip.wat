;; Stepping over a JSON object or array held in this module's memory, 64 bytes at a time
;; (WebAssembly SIMD). Compiled by scripts/build-wasm.mjs into jsonSkipWasm.ts; wasmJsonBuffer.ts
;; holds the bytes here and jsonScan.ts's skipValue calls it for every container in them.
;;
;; skipContainer ends a container where skipValue's JavaScript loop ends it, and checks nothing
;; more (no validation): outside strings it counts { [ against } ]; a string ends at its first
;; quote not escaped by a backslash. `members` lists an object's members as
;; jsonScan.ts's objectMembers does (readKey, skipValue, nextMember in turn). The caller keeps 64
;; readable bytes after `end` (loads may look past it; what lies there is never used).
;; `firstHigh` finds the first non-ASCII byte, for parseUtf8Json.ts.
(module
  (memory (export "memory") 1)

  ;; From `i`, outside any string, `depth` brackets deep in a container: the offset just after
  ;; the `}` or `]` that closes it, -1 when `end` comes first (the container is cut by the end
  ;; of the window), -2 where a backslash stands outside strings (not JSON: skipValue's
  ;; JavaScript loop steps over it instead). From a container's opening bracket, `depth` is 0.
  ;;
  ;; 64 bytes a step, finding strings as simdjson does: bit masks of the step's backslashes,
  ;; quotes and brackets; the escaped bytes from the backslash runs (an odd run escapes the byte
  ;; after it; `$escapedNext` carries a run that ends the step); the quotes left open and close
  ;; strings, so the prefix XOR of their mask marks the bytes inside strings (`$inside` carries a
  ;; string that goes on past the step). Brackets outside strings are then counted, and only a
  ;; step where the count may reach zero is walked bracket by bracket.
  (func $skipContainerAt (export "skipContainer") (param $i i32) (param $end i32) (param $depth i32) (result i32)
    (local $bs i64) (local $q i64) (local $open i64) (local $close i64) (local $valid i64)
    (local $escapedNext i64) (local $inside i64) (local $code i64) (local $escaped i64) (local $strings i64)
    (local $m i64) (local $bit i64) (local $left i32) (local $v v128) (local $lower v128) (local $raw i64)
    (loop $step
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $left (i32.sub (local.get $end) (local.get $i)))
      ;; The step's bytes before `end` (what lies past it is masked off).
      (local.set $valid
        (if (result i64) (i32.ge_u (local.get $left) (i32.const 64))
          (then (i64.const -1))
          (else (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $left))) (i64.const 1)))))
      ;; Each 16 bytes loaded once: their backslashes, quotes, `{ [` and `} ]` (`{ [` and `} ]` differ by 0x20).
      (local.set $bs (i64.const 0)) (local.set $q (i64.const 0)) (local.set $open (i64.const 0)) (local.set $close (i64.const 0))
      (local.set $v (v128.load align=1 (local.get $i)))
      (local.set $lower (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))))
      (local.set $bs (i64.or (local.get $bs) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))) (i64.const 0))))
      (local.set $q (i64.or (local.get $q) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22))))) (i64.const 0))))
      (local.set $open (i64.or (local.get $open) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7b))))) (i64.const 0))))
      (local.set $close (i64.or (local.get $close) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7d))))) (i64.const 0))))
      (local.set $v (v128.load offset=16 align=1 (local.get $i)))
      (local.set $lower (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))))
      (local.set $bs (i64.or (local.get $bs) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))) (i64.const 16))))
      (local.set $q (i64.or (local.get $q) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22))))) (i64.const 16))))
      (local.set $open (i64.or (local.get $open) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7b))))) (i64.const 16))))
      (local.set $close (i64.or (local.get $close) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7d))))) (i64.const 16))))
      (local.set $v (v128.load offset=32 align=1 (local.get $i)))
      (local.set $lower (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))))
      (local.set $bs (i64.or (local.get $bs) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))) (i64.const 32))))
      (local.set $q (i64.or (local.get $q) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22))))) (i64.const 32))))
      (local.set $open (i64.or (local.get $open) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7b))))) (i64.const 32))))
      (local.set $close (i64.or (local.get $close) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7d))))) (i64.const 32))))
      (local.set $v (v128.load offset=48 align=1 (local.get $i)))
      (local.set $lower (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))))
      (local.set $bs (i64.or (local.get $bs) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))) (i64.const 48))))
      (local.set $q (i64.or (local.get $q) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22))))) (i64.const 48))))
      (local.set $open (i64.or (local.get $open) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7b))))) (i64.const 48))))
      (local.set $close (i64.or (local.get $close) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7d))))) (i64.const 48))))
      (local.set $bs (i64.and (local.get $bs) (local.get $valid)))
      (local.set $raw (local.get $bs))
      (local.set $q (i64.and (local.get $q) (local.get $valid)))
      (local.set $open (i64.and (local.get $open) (local.get $valid)))
      (local.set $close (i64.and (local.get $close) (local.get $valid)))
      ;; Escaped bytes (simdjson's next_escape_and_terminal_code, ODD_BITS = 0xAAAA…).
      (if (i64.eqz (i64.or (local.get $bs) (local.get $escapedNext)))
        (then (local.set $escaped (i64.const 0)))
        (else
          (local.set $bs (i64.and (local.get $bs) (i64.xor (local.get $escapedNext) (i64.const -1))))
          (local.set $code
            (i64.xor
              (i64.sub (i64.or (i64.shl (local.get $bs) (i64.const 1)) (i64.const 0xAAAAAAAAAAAAAAAA)) (local.get $bs))
              (i64.const 0xAAAAAAAAAAAAAAAA)))
          (local.set $escaped (i64.xor (local.get $code) (i64.or (local.get $bs) (local.get $escapedNext))))
          (local.set $escapedNext (i64.shr_u (i64.and (local.get $code) (local.get $bs)) (i64.const 63)))))
      ;; Inside strings: the prefix XOR of the unescaped quotes, carried on from the last step.
      (local.set $strings (i64.and (local.get $q) (i64.xor (local.get $escaped) (i64.const -1))))
      (local.set $strings (i64.xor (local.get $strings) (i64.shl (local.get $strings) (i64.const 1))))
      (local.set $strings (i64.xor (local.get $strings) (i64.shl (local.get $strings) (i64.const 2))))
      (local.set $strings (i64.xor (local.get $strings) (i64.shl (local.get $strings) (i64.const 4))))
      (local.set $strings (i64.xor (local.get $strings) (i64.shl (local.get $strings) (i64.const 8))))
      (local.set $strings (i64.xor (local.get $strings) (i64.shl (local.get $strings) (i64.const 16))))
      (local.set $strings (i64.xor (local.get $strings) (i64.shl (local.get $strings) (i64.const 32))))
      (local.set $strings (i64.xor (local.get $strings) (local.get $inside)))
      (local.set $inside (i64.shr_s (local.get $strings) (i64.const 63)))
      ;; A backslash outside every string (never in JSON): skipValue's loop takes it as an
      ;; ordinary byte, the masks above as an escape. The caller's loop decides instead.
      (if (i64.ne (i64.and (local.get $raw) (i64.xor (local.get $strings) (i64.const -1))) (i64.const 0))
        (then (return (i32.const -2))))
      (local.set $open (i64.and (local.get $open) (i64.xor (local.get $strings) (i64.const -1))))
      (local.set $close (i64.and (local.get $close) (i64.xor (local.get $strings) (i64.const -1))))
      (if (i64.ge_u (i64.popcnt (local.get $close)) (i64.extend_i32_u (local.get $depth)))
        (then
          ;; The count may reach zero in this step: bracket by bracket.
          (local.set $m (i64.or (local.get $open) (local.get $close)))
          (block $walked
            (loop $walk
              (br_if $walked (i64.eqz (local.get $m)))
              (local.set $bit (i64.and (local.get $m) (i64.sub (i64.const 0) (local.get $m))))
              (if (i64.eqz (i64.and (local.get $bit) (local.get $open)))
                (then
                  (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                  (if (i32.eqz (local.get $depth))
                    (then (return (i32.add (local.get $i) (i32.add (i32.wrap_i64 (i64.ctz (local.get $m))) (i32.const 1)))))))
                (else (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
              (local.set $m (i64.xor (local.get $m) (local.get $bit)))
              (br $walk))))
        (else
          (local.set $depth
            (i32.add (local.get $depth)
              (i32.wrap_i64 (i64.sub (i64.popcnt (local.get $open)) (i64.popcnt (local.get $close))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 64)))
      (br $step))
    (i32.const -1))

  ;; From just after a string's opening quote: the offset just after its closing quote (a
  ;; backslash takes the byte after it along), or -1 when `end` comes first.
  (func $afterString (param $i i32) (param $end i32) (result i32)
    (local $m i32)
    (loop $string
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $m (i8x16.bitmask
        (v128.or
          (i8x16.eq (v128.load align=1 (local.get $i)) (i8x16.splat (i32.const 0x22)))
          (i8x16.eq (v128.load align=1 (local.get $i)) (i8x16.splat (i32.const 0x5c))))))
      (if (i32.eqz (local.get $m))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $string)))
      (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x5c))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br $string))))
    (i32.add (local.get $i) (i32.const 1)))

  ;; The offset of the first byte at or after `i` that is not JSON white space (`end` at most).
  (func $skipWs (param $i i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $ws
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $done (i32.eqz (i32.or
          (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
          (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $ws)))
    (local.get $i))

  ;; The members of the object whose `{` is at `i`: for each, in order, four i32 at `out` + 16 +
  ;; 16k (the key's opening quote, just after its closing quote, the value's first byte, just
  ;; after the value; each minus `base`), and at `out` just after the object's `}` (minus `base`).
  ;; Returns how many there are; -1 when `end` comes first, -2 when the text is not JSON where a
  ;; key, colon, value or separator belongs, -3 when there are more than `max`, -4 when
  ;; skipContainer leaves a value to the JavaScript loop (a backslash outside strings).
  (func (export "members") (param $i i32) (param $end i32) (param $out i32) (param $max i32) (param $base i32) (result i32)
    (local $n i32) (local $c i32) (local $key i32) (local $keyEnd i32) (local $value i32) (local $at i32)
    (local.set $i (call $skipWs (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
    (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x7d))
      (then
        (i32.store (local.get $out) (i32.sub (i32.add (local.get $i) (i32.const 1)) (local.get $base)))
        (return (i32.const 0))))
    (loop $member
      ;; The key.
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const -2))))
      (local.set $key (local.get $i))
      (local.set $i (call $afterString (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
      (if (i32.eq (local.get $i) (i32.const -1)) (then (return (i32.const -1))))
      (local.set $keyEnd (local.get $i))
      (local.set $i (call $skipWs (local.get $i) (local.get $end)))
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x3a)) (then (return (i32.const -2))))
      (local.set $i (call $skipWs (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      ;; The value.
      (local.set $value (local.get $i))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 0x22))
        (then (local.set $i (call $afterString (i32.add (local.get $i) (i32.const 1)) (local.get $end))))
        (else
          (if (i32.eq (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x7b))
            (then (local.set $i (call $skipContainerAt (i32.add (local.get $i) (i32.const 1)) (local.get $end) (i32.const 1))))
            (else
              ;; A scalar: up to a separator, a closing bracket or white space.
              (block $scalarEnd
                (loop $scalar
                  (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
                  (local.set $c (i32.load8_u (local.get $i)))
                  (br_if $scalarEnd (i32.or
                    (i32.or (i32.eq (local.get $c) (i32.const 0x2c)) (i32.eq (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x7d)))
                    (i32.or
                      (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
                      (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $scalar)))
              (if (i32.eq (local.get $i) (local.get $value)) (then (return (i32.const -2))))))))
      (if (i32.eq (local.get $i) (i32.const -1)) (then (return (i32.const -1))))
      (if (i32.eq (local.get $i) (i32.const -2)) (then (return (i32.const -4))))
      (if (i32.ge_u (local.get $n) (local.get $max)) (then (return (i32.const -3))))
      (local.set $at (i32.add (local.get $out) (i32.add (i32.const 16) (i32.shl (local.get $n) (i32.const 4)))))
      (i32.store (local.get $at) (i32.sub (local.get $key) (local.get $base)))
      (i32.store offset=4 (local.get $at) (i32.sub (local.get $keyEnd) (local.get $base)))
      (i32.store offset=8 (local.get $at) (i32.sub (local.get $value) (local.get $base)))
      (i32.store offset=12 (local.get $at) (i32.sub (local.get $i) (local.get $base)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      ;; A comma and the next key, or the closing brace.
      (local.set $i (call $skipWs (local.get $i) (local.get $end)))
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 0x2c))
        (then
          (local.set $i (call $skipWs (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
          (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
          (br $member)))
      (if (i32.ne (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x7d)) (then (return (i32.const -2)))))
    (i32.store (local.get $out) (i32.sub (i32.add (local.get $i) (i32.const 1)) (local.get $base)))
    (local.get $n))

  ;; The offset of the first byte >= 0x80 in [i, end), or `end`: 16 bytes a step (a byte's high
  ;; bit is what i8x16.bitmask collects). The caller keeps readable bytes after `end`.
  (func (export "firstHigh") (param $i i32) (param $end i32) (result i32)
    (local $m i32)
    (block $found
      (loop $step
        (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (local.get $end))))
        (local.set $m (i8x16.bitmask (v128.load align=1 (local.get $i))))
        (br_if $found (local.get $m))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
    (select (local.get $i) (local.get $end) (i32.lt_u (local.get $i) (local.get $end))))
)
