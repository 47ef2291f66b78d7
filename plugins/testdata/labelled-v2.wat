;; labelled-v2.wat: version 2 of a module whose every hook labels its output
;; with its version, so that a test can tell which version made what: its
;; policy names the client "v2", its id_factory returns IDs "v2-" followed by
;; 16 random hex digits, and it issues registration access tokens.
(module
  (import "registrar" "random" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; The policy's output: 75 bytes.
  (data (i32.const 0) "{\22metadata\22:{\22client_name\22:\22v2\22,\22redirect_uris\22:[\22https://rp.example/cb\22]}}")
  ;; The id_factory's output, 35 bytes, whose 16 zeros are overwritten.
  (data (i32.const 1024) "{\22client_id\22:\22v2-0000000000000000\22}")
  ;; The decision: 17 bytes.
  (data (i32.const 1536) "{\22decision\22:true}")
  (data (i32.const 3072) "0123456789abcdef")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 75))
  (func (export "registrar_id_factory") (param i32 i32) (result i64)
    (local $i i32) (local $b i32)
    ;; 8 random bytes at 2048, written as hex digits at 1041.
    (drop (call $random (i32.const 2048) (i32.const 8)))
    (block $done
      (loop $next
        (br_if $done (i32.eq (local.get $i) (i32.const 8)))
        (local.set $b (i32.load8_u (i32.add (i32.const 2048) (local.get $i))))
        (i32.store8 (i32.add (i32.const 1041) (i32.shl (local.get $i) (i32.const 1)))
          (i32.load8_u (i32.add (i32.const 3072) (i32.shr_u (local.get $b) (i32.const 4)))))
        (i32.store8 (i32.add (i32.const 1042) (i32.shl (local.get $i) (i32.const 1)))
          (i32.load8_u (i32.add (i32.const 3072) (i32.and (local.get $b) (i32.const 15)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 35)))
  (func (export "registrar_issue_registration_access_token") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 1536) (i64.const 32)) (i64.const 17))))
