;; big-memory.wat: a module that asks for more initial memory (1,024 pages,
;; 64 MiB) than the default cap allows.
(module
  (memory (export "memory") 1024)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
