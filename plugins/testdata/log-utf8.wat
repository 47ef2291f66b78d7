;; log-utf8.wat: log lines that must be cut on a UTF-8 boundary, and a log
;; call with a bad pointer. Its policy logs 1,023 "a" and a two-byte "é"
;; through registrar.log and 1,023 "b", "é" and a newline to stdout (both
;; one byte over the 1,024 kept), then calls registrar.log with a range
;; outside its memory, then accepts the request unchanged.
(module
  (import "registrar" "log" (func $log (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{}}") ;; 15 bytes
  (data (i32.const 2047) "\c3\a9")          ;; é after 1,023 "a" at 1024
  (data (i32.const 5119) "\c3\a9\0a")       ;; é and a newline after 1,023 "b" at 4096
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (memory.fill (i32.const 1024) (i32.const 0x61) (i32.const 1023))
    (memory.fill (i32.const 4096) (i32.const 0x62) (i32.const 1023))
    (call $log (i32.const 1) (i32.const 1024) (i32.const 1025))
    ;; iovec at 200: {ptr 4096, len 1026}; bytes written go to 208
    (i32.store (i32.const 200) (i32.const 4096))
    (i32.store (i32.const 204) (i32.const 1026))
    (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 208)))
    (call $log (i32.const 2) (i32.const 0xffffff00) (i32.const 16))
    (i64.const 15)))  ;; address 0, length 15
