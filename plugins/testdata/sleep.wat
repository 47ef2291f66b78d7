;; sleep.wat: a policy that sleeps for an hour in WASI poll_oneoff (one
;; relative clock subscription, as Go's time.Sleep, Rust's thread::sleep
;; and wasi-libc's nanosleep do), then accepts the request unchanged. It
;; logs "going to sleep" first, so that a test knows when it sleeps.
(module
  (import "registrar" "log" (func $log (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{}}") ;; 15 bytes
  (data (i32.const 32) "going to sleep")    ;; 14 bytes
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (call $log (i32.const 1) (i32.const 32) (i32.const 14))
    ;; subscription at 64 (48 bytes): userdata, tag 0 (clock), clock id 1
    ;; (monotonic), timeout in ns, precision, flags 0 (relative)
    (i64.store (i32.const 64) (i64.const 7))
    (i32.store8 (i32.const 72) (i32.const 0))
    (i32.store (i32.const 80) (i32.const 1))
    (i64.store (i32.const 88) (i64.const 3600000000000))
    (i64.store (i32.const 96) (i64.const 0))
    (i32.store16 (i32.const 104) (i32.const 0))
    ;; events at 128 (32 bytes), their count at 160
    (drop (call $poll (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 160)))
    (i64.const 15)))  ;; address 0, length 15
