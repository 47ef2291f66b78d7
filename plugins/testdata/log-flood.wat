;; log-flood.wat: a log bomb. Its policy logs a 1,024-byte line of control
;; characters (each of which JSON escapes as six bytes) 10,000 times
;; through registrar.log, then accepts the request unchanged.
(module
  (import "registrar" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{}}") ;; 15 bytes
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (local $i i32)
    (memory.fill (i32.const 1024) (i32.const 1) (i32.const 1024))
    (loop $more
      (call $log (i32.const 1) (i32.const 1024) (i32.const 1024))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 10000))))
    (i64.const 15)))  ;; address 0, length 15
