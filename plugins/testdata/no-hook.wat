;; no-hook.wat: a module that exports no hook.
(module
  (memory (export "memory") 1)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 1024)))
