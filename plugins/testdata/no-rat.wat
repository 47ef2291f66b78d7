;; no-rat.wat: a decision hook that refuses a registration access token.
;; Its issue_registration_access_token hook ignores its input and returns a constant document.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22decision\22:false}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_issue_registration_access_token") (param i32 i32) (result i64) (i64.const 18)))
