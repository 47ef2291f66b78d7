;; log-loop.wat: a policy that logs "looping", so that a test knows it
;; runs, then never returns (an endless loop).
(module
  (import "registrar" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "looping") ;; 7 bytes
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (call $log (i32.const 1) (i32.const 0) (i32.const 7))
    (loop $forever (br $forever))
    (i64.const 0)))
