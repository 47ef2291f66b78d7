;; out-of-bounds.wat: a policy that returns an address outside its memory.
(module
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  ;; address 0x00100000 (1 MiB), length 16: past the 128 KiB memory
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0x0010000000000010)))
