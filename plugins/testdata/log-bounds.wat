;; log-bounds.wat: a policy that calls registrar.log with bytes outside its
;; memory (which the host ignores, sdk/ABI.md §3), then with one good line,
;; and accepts empty metadata.
(module
  (import "registrar" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\22metadata\22:{}}")  ;; 15 bytes
  (data (i32.const 16) "the good line")        ;; 13 bytes
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (call $log (i32.const 1) (i32.const 70000) (i32.const 5))     ;; the pointer is outside the memory
    (call $log (i32.const 1) (i32.const 65000) (i32.const 1000))  ;; the bytes run past its end
    (call $log (i32.const 1) (i32.const -1) (i32.const 1))        ;; the last address of the 32-bit space
    (call $log (i32.const 1) (i32.const 16) (i32.const 13))
    (i64.const 15)))  ;; address 0, length 15
