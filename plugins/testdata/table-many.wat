;; table-many.wat: eight tables of 10,000 elements each, within the cap per
;; table; at 8 bytes an element they take 640,000 bytes (10 pages) of the
;; module's memory budget.
(module
  (table 10000 funcref) (table 10000 funcref) (table 10000 funcref) (table 10000 funcref)
  (table 10000 externref) (table 10000 externref) (table 10000 externref) (table 10000 externref)
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
