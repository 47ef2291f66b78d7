;; tested-reject.wat: reject.wat with self-test cases that expect it to
;; accept: build.sh appends tested-reject.cases.json as its registrar.cases
;; custom section, and the host refuses the module, naming the case.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22error\22:\22invalid_client_metadata\22,\22error_description\22:\22rejected by the reject fixture\22}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 88)))
