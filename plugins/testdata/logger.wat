;; logger.wat: a policy that logs through registrar.log and WASI stdout,
;; reads the host clock and randomness, then rejects the request so that
;; the test sees a well-formed answer.
(module
  (import "registrar" "log" (func $log (param i32 i32 i32)))
  (import "registrar" "now_unix_ms" (func $now (result i64)))
  (import "registrar" "random" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "hello from registrar.log")         ;; 24 bytes
  (data (i32.const 32) "hello from stdout\n")             ;; 18 bytes
  (data (i32.const 64) "{\22error\22:\22invalid_client_metadata\22,\22error_description\22:\22logged\22}") ;; 64 bytes
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (call $log (i32.const 1) (i32.const 0) (i32.const 24))
    ;; iovec at 200: {ptr 32, len 18}; bytes written go to 208
    (i32.store (i32.const 200) (i32.const 32))
    (i32.store (i32.const 204) (i32.const 18))
    (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 208)))
    ;; the clock must be real: after 2020-01-01 (1577836800000 ms)
    (if (i64.lt_u (call $now) (i64.const 1577836800000)) (then unreachable))
    ;; randomness must succeed for 32 bytes and fail for an out-of-range buffer
    (if (i32.ne (call $random (i32.const 300) (i32.const 32)) (i32.const 0)) (then unreachable))
    (if (i32.ne (call $random (i32.const 131000) (i32.const 1000)) (i32.const 1)) (then unreachable))
    (i64.const 0x0000004000000040)))  ;; address 64, length 64
