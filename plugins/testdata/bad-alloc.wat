;; bad-alloc.wat: an allocator that always fails (returns 0).
(module
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 0))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
