;; imported-memory.wat: a module that imports its memory instead of owning it.
(module
  (import "registrar" "memory" (memory 1))
  (export "memory" (memory 0))
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
