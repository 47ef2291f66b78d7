;; accept-v2.wat: a second version of accept.wat, which names the client
;; "accepted v2".
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{\22client_name\22:\22accepted v2\22}}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 42)))
