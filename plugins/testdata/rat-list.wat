;; rat-list.wat: a policy that replaces the metadata and sets the registration access token's policy list to [minimal].
;; Its policy hook ignores its input and returns a constant document.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{\22redirect_uris\22:[\22https://app.example/cb\22],\22client_name\22:\22From rat-list\22},\22registration_policies\22:[\22minimal\22]}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 123)))
