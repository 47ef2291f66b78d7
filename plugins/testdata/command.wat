;; command.wat: a WASI command (exports _start), which the host refuses.
(module
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
