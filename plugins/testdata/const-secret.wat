;; const-secret.wat: a secret_factory returning a fixed 42-character secret.
;; Its secret_factory hook ignores its input and returns a constant document.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22client_secret\22:\220123456789abcdef0123456789abcdef0123456789\22}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_secret_factory") (param i32 i32) (result i64) (i64.const 62)))
