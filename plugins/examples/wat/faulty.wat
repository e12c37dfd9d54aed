;; A deliberately failing cflog rule: every cflog_enrich traps (`unreachable`). It shows
;; what a host does with a rule that fails: the records go un-enriched, the failures are
;; counted by kind, the rule is disabled after 3 failures in a row, and the run goes on,
;; in `cflog analyze --plugin`, the Lambda and the browser alike (web-demo's tests load it).
(module
  (memory (export "memory") 2)
  (data (i32.const 16) "sc-status")

  (func (export "cflog_abi_version") (result i32) (i32.const 1))

  ;; The fields this rule reads: "sc-status" at 16, 9 bytes.
  (func (export "cflog_fields") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 9)))

  (func (export "cflog_last_error") (result i64) (i64.const 0))

  ;; One buffer at 64 KiB, grown to fit the host's bytes.
  (func (export "cflog_alloc") (param $len i32) (result i32)
    (local $need i32) (local $have i32)
    (local.set $need (i32.add (i32.const 65536) (local.get $len)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (local.get $have))
      (then
        (if (i32.lt_s
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $need) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const 0))
          (then (return (i32.const 0))))))
    (i32.const 65536))

  (func (export "cflog_init") (param i32 i32 i32 i32) (result i32) (i32.const 0))

  (func (export "cflog_enrich") (param i32 i32) (result i64) unreachable))
