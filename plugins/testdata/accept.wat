;; accept.wat: a policy that accepts every request and names the client
;; "accepted". Its policy hook ignores its input and returns a constant
;; document. accept-tested.wat is the same module with self-test cases,
;; accept-v2.wat a version that names the client differently.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{\22client_name\22:\22accepted\22}}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 39)))
