;; forbidden-import.wat: a module importing a function the ABI does not offer.
(module
  (import "env" "http_get" (func $http_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
