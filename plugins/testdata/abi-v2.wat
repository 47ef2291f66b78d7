;; abi-v2.wat: a module that speaks an ABI version this host does not.
(module
  (memory (export "memory") 1)
  (func (export "registrar_abi_version") (result i32) (i32.const 2))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
