;; garbage.wat: output that is not JSON.
;; Its policy hook ignores its input and returns a constant document.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "this is not JSON")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 16)))
