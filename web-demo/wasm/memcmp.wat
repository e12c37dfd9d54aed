;; memcmp for the inspector's wasm (cflog_wasm_bg.wasm), spliced in by wasm/memcmp.mjs in
;; place of compiler-builtins' byte-at-a-time loop, which wasm32 gets for every slice
;; comparison (`==` on keys in the top-k and counter tables, sorting): 16 bytes at a time
;; with simd128 (which the site's build enables), then 8, then bytes. Same contract as C's
;; memcmp and compiler-builtins': the difference of the first differing bytes (unsigned),
;; 0 when the n bytes are equal. Out-of-bounds reads trap, as the loads they replace would.
;; Only the function's body is spliced; the memory here is for the tests
;; (tests/memcmp.test.mjs), which fill it and call the export.
(module
  (memory (export "memory") 1)
  (func (export "memcmp") (param $a i32) (param $b i32) (param $n i32) (result i32)
    (local $x i32)
    (local $y i32)
    ;; 16 bytes at a time while they are equal.
    (block $short
      (loop $wide
        (br_if $short (i32.lt_u (local.get $n) (i32.const 16)))
        (br_if $short
          (v128.any_true (v128.xor (v128.load align=1 (local.get $a)) (v128.load align=1 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 16)))
        (br $wide)))
    ;; 8 bytes at a time while they are equal (the byte loop then has fewer than 16 left,
    ;; or stops within the first differing 16).
    (block $bytes
      (loop $word
        (br_if $bytes (i32.lt_u (local.get $n) (i32.const 8)))
        (br_if $bytes (i64.ne (i64.load align=1 (local.get $a)) (i64.load align=1 (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 8)))
        (br $word)))
    (block $equal
      (loop $byte
        (br_if $equal (i32.eqz (local.get $n)))
        (local.set $x (i32.load8_u (local.get $a)))
        (local.set $y (i32.load8_u (local.get $b)))
        (if (i32.ne (local.get $x) (local.get $y))
          (then (return (i32.sub (local.get $x) (local.get $y)))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $byte)))
    (i32.const 0)))
