;; oversized.wat: a policy whose output is larger than the host's output
;; limit (it claims 300,000 bytes starting at 0, inside its 5-page memory).
(module
  (memory (export "memory") 5)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 300000)))
