;; loop.wat: a policy that never returns (an endless loop).
(module
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (loop $forever (br $forever))
    (i64.const 0)))
