;; token-const.wat: an issue_access_token hook that ignores its input and
;; allows every token with scope ["read"], a 60-second lifetime and the
;; claim "tier": "gold". The host checks that answer against each input:
;; where "read" is not in the input's scope, or the input's lifetime is
;; under 60 seconds, the call fails.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22scope\22:[\22read\22],\22lifetime\22:60,\22claims\22:{\22tier\22:\22gold\22}}")
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  ;; The input (at most 64 KiB) goes in the second page.
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_issue_access_token") (param i32 i32) (result i64) (i64.const 57)))
