;; accept-tested.wat: accept.wat with self-test cases (sdk/ABI.md §7):
;; build.sh appends accept-tested.cases.json to the module as its
;; registrar.cases custom section. It answers as accept.wasm does, with
;; other bytes, so it can run in shadow beside it and agree.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{\22client_name\22:\22accepted\22}}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 39)))
