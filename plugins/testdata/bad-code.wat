;; bad-code.wat: a rejection with a code outside RFC 7591 §3.2.2.
;; Its policy hook ignores its input and returns a constant document.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22error\22:\22server_error\22,\22error_description\22:\22nope\22}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 51)))
