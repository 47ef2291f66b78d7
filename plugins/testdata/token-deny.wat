;; token-deny.wat: an issue_access_token hook that denies every token with
;; access_denied.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22error\22:\22access_denied\22,\22error_description\22:\22no tokens today\22}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_issue_access_token") (param i32 i32) (result i64) (i64.const 63)))
