;; recurse.wat: a policy that calls itself without end, until the stack
;; overflows.
(module
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func $recurse (param i32 i32) (result i64)
    (call $recurse (local.get 0) (local.get 1)))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (call $recurse (local.get 0) (local.get 1))))
