;; cflog rule in hand-written WebAssembly text: tags every record
;; `status_class=2xx` (1xx..5xx) from its sc-status field. No imports, no runtime:
;; it shows the ABI (docs/plugin-abi.md, version 1) is language-neutral.
;;
;; Memory map: static data below 1 KiB; the host's buffer (cflog_alloc) at 64 KiB;
;; the result right after the host's bytes.
(module
  (memory (export "memory") 2)
  (data (i32.const 16) "sc-status")
  (data (i32.const 32) "status_class")

  (global $in_base i32 (i32.const 65536))

  (func (export "cflog_abi_version") (result i32) (i32.const 1))

  ;; The fields this rule reads: "sc-status" at 16, 9 bytes.
  (func (export "cflog_fields") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 9)))

  (func (export "cflog_last_error") (result i64) (i64.const 0))

  ;; One buffer at 64 KiB, with room behind it for the result (at most 21 bytes per
  ;; record; a record takes at least 4 bytes of input).
  (func (export "cflog_alloc") (param $len i32) (result i32)
    (local $need i32) (local $have i32)
    (local.set $need (i32.add (i32.add (global.get $in_base) (i32.mul (local.get $len) (i32.const 7))) (i32.const 64)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (local.get $have))
      (then
        (if (i32.lt_s
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $need) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const 0))
          (then (return (i32.const 0))))))
    (global.get $in_base))

  ;; Configuration is ignored; any schema is accepted (the host sends just sc-status).
  (func (export "cflog_init") (param i32 i32 i32 i32) (result i32) (i32.const 0))

  (func (export "cflog_enrich") (param $ptr i32) (param $len i32) (result i64)
    (local $count i32) (local $i i32) (local $ends i32) (local $data i32)
    (local $start i32) (local $end i32) (local $out i32) (local $o i32) (local $c i32)
    (local.set $count (i32.load (local.get $ptr)))
    (local.set $ends (i32.add (local.get $ptr) (i32.const 4)))
    (local.set $data (i32.add (local.get $ends) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $out (i32.add (local.get $ptr) (local.get $len)))
    (i32.store (local.get $out) (local.get $count))
    (local.set $o (i32.add (local.get $out) (i32.const 4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $end (i32.load (i32.add (local.get $ends) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $c (i32.load8_u (i32.add (local.get $data) (local.get $start))))
        (if (i32.and
              (i32.eq (i32.sub (local.get $end) (local.get $start)) (i32.const 3))
              (i32.and (i32.ge_u (local.get $c) (i32.const 49)) (i32.le_u (local.get $c) (i32.const 53))))
          (then
            ;; flags 0, one tag, no label; key "status_class"; value "Nxx".
            (i32.store8 (local.get $o) (i32.const 0))
            (i32.store8 offset=1 (local.get $o) (i32.const 1))
            (i32.store8 offset=2 (local.get $o) (i32.const 0))
            (i32.store8 offset=3 (local.get $o) (i32.const 12))
            ;; the key's 12 bytes as two loads and stores (a `memory.copy` is a call
            ;; into the runtime).
            (i64.store offset=4 (local.get $o) (i64.load (i32.const 32)))
            (i32.store offset=12 (local.get $o) (i32.load (i32.const 40)))
            (i32.store16 offset=16 (local.get $o) (i32.const 3))
            (i32.store8 offset=18 (local.get $o) (local.get $c))
            (i32.store8 offset=19 (local.get $o) (i32.const 120))
            (i32.store8 offset=20 (local.get $o) (i32.const 120))
            (local.set $o (i32.add (local.get $o) (i32.const 21))))
          (else
            (i32.store8 (local.get $o) (i32.const 0))
            (i32.store8 offset=1 (local.get $o) (i32.const 0))
            (i32.store8 offset=2 (local.get $o) (i32.const 0))
            (local.set $o (i32.add (local.get $o) (i32.const 3)))))
        (local.set $start (local.get $end))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32))
      (i64.extend_i32_u (i32.sub (local.get $o) (local.get $out)))))
)
