;; nul-output.wat: output with a raw NUL byte inside a string, which JSON
;; does not allow. Its policy hook ignores its input and returns a
;; constant document.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{\22client_name\22:\22a\00b\22}}") ;; 34 bytes
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (i64.const 34)))  ;; address 0, length 34
