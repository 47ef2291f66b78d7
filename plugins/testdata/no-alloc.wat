;; no-alloc.wat: a module without registrar_alloc.
(module
  (memory (export "memory") 1)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
