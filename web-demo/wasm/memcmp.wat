;; memcmp for the inspector's wasm (cflog_wasm_bg.wasm), spliced in by wasm/memcmp.mjs in
;; place of compiler-builtins' byte-at-a-time loop, which wasm32 gets for every slice
;; comparison (`==` on keys in the top-k and counter tables, sorting). Same contract as
;; C's memcmp and compiler-builtins': the difference of the first differing bytes
;; (unsigned), 0 when the n bytes are equal. Out-of-bounds reads trap, as the loads they
;; replace would; nothing outside the n bytes is read.
;;
;; No byte loop past 3 bytes: 16 or more bytes go 16 at a time with simd128 (which the
;; site's build enables), and the last 1–16 as one 16-byte load ending at the last byte
;; (overlapping bytes already found equal); 8–15 bytes as two 8-byte loads (the first 8,
;; the last 8), 4–7 as two 4-byte loads. The first differing byte is then found in the
;; differing load: the lowest clear bit of the lane-equality mask (16 bytes), the lowest
;; set bit of the XOR (8 or 4 bytes; wasm is little-endian, so the lowest address is the
;; lowest byte).
;; Only the function's body is spliced; the memory here is for the tests
;; (tests/memcmp.test.mjs), which fill it and call the export.
(module
  (memory (export "memory") 1)
  (func (export "memcmp") (param $a i32) (param $b i32) (param $n i32) (result i32)
    (local $x i64)
    (local $y i64)
    (local $s i64)
    (local $k i32)
    (if (i32.ge_u (local.get $n) (i32.const 16))
      (then
        ;; $a and $b point at 16 bytes that hold the first difference.
        (block $found
          (loop $wide
            (if (i32.le_u (local.get $n) (i32.const 16))
              (then
                ;; The last 16 bytes (1–16 of them new).
                (local.set $a (i32.sub (i32.add (local.get $a) (local.get $n)) (i32.const 16)))
                (local.set $b (i32.sub (i32.add (local.get $b) (local.get $n)) (i32.const 16)))
                (br_if $found
                  (v128.any_true (v128.xor (v128.load align=1 (local.get $a)) (v128.load align=1 (local.get $b)))))
                (return (i32.const 0))))
            (br_if $found
              (v128.any_true (v128.xor (v128.load align=1 (local.get $a)) (v128.load align=1 (local.get $b)))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (local.set $b (i32.add (local.get $b) (i32.const 16)))
            (local.set $n (i32.sub (local.get $n) (i32.const 16)))
            (br $wide)))
        (local.set $k
          (i32.ctz (i32.xor (i32.const 0xffff)
            (i8x16.bitmask (i8x16.eq (v128.load align=1 (local.get $a)) (v128.load align=1 (local.get $b)))))))
        (return (i32.sub (i32.load8_u (i32.add (local.get $a) (local.get $k)))
                         (i32.load8_u (i32.add (local.get $b) (local.get $k)))))))
    ;; Fewer than 16 bytes: $x and $y hold the first differing word.
    (block $differ
      (if (i32.ge_u (local.get $n) (i32.const 8))
        (then
          (local.set $x (i64.load align=1 (local.get $a)))
          (local.set $y (i64.load align=1 (local.get $b)))
          (br_if $differ (i64.ne (local.get $x) (local.get $y)))
          (local.set $x (i64.load align=1 (i32.sub (i32.add (local.get $a) (local.get $n)) (i32.const 8))))
          (local.set $y (i64.load align=1 (i32.sub (i32.add (local.get $b) (local.get $n)) (i32.const 8))))
          (br_if $differ (i64.ne (local.get $x) (local.get $y)))
          (return (i32.const 0))))
      (if (i32.ge_u (local.get $n) (i32.const 4))
        (then
          (local.set $x (i64.load32_u align=1 (local.get $a)))
          (local.set $y (i64.load32_u align=1 (local.get $b)))
          (br_if $differ (i64.ne (local.get $x) (local.get $y)))
          (local.set $x (i64.load32_u align=1 (i32.sub (i32.add (local.get $a) (local.get $n)) (i32.const 4))))
          (local.set $y (i64.load32_u align=1 (i32.sub (i32.add (local.get $b) (local.get $n)) (i32.const 4))))
          (br_if $differ (i64.ne (local.get $x) (local.get $y)))
          (return (i32.const 0))))
      ;; 0–3 bytes, one at a time.
      (block $equal
        (loop $byte
          (br_if $equal (i32.eqz (local.get $n)))
          (local.set $k (i32.sub (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
          (if (local.get $k) (then (return (local.get $k))))
          (local.set $a (i32.add (local.get $a) (i32.const 1)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $byte)))
      (return (i32.const 0)))
    ;; The lowest differing byte of $x and $y: the lowest set bit of the XOR, rounded down
    ;; to its byte.
    (local.set $s (i64.and (i64.ctz (i64.xor (local.get $x) (local.get $y))) (i64.const 56)))
    (i32.sub (i32.wrap_i64 (i64.and (i64.shr_u (local.get $x) (local.get $s)) (i64.const 0xff)))
             (i32.wrap_i64 (i64.and (i64.shr_u (local.get $y) (local.get $s)) (i64.const 0xff))))))
