;; table-grow.wat: a table bomb. Its policy grows a funcref table a million
;; elements at a time until the host refuses, then traps as grow.wat does.
;; Without a cap on tables, each step costs the host 8 MB and cannot be
;; interrupted.
(module
  (table $t 1 funcref)
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (loop $more
      (br_if $more (i32.ne (table.grow $t (ref.null func) (i32.const 1000000)) (i32.const -1))))
    unreachable))
