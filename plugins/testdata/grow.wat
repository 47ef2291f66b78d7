;; grow.wat: a memory bomb. Its policy grows memory a page at a time until
;; the host refuses, then traps as a language runtime out of memory does.
(module
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable))
