;; table-cap.wat: probes the table cap. Its policy grows a table with no
;; declared maximum one element at a time until table.grow fails; it
;; accepts the request (empty metadata) if that happened at exactly 10,000
;; elements, the default max_table_elements, and traps if the table grew
;; past it (it stops trying at 20,000, so that it stays small either way).
(module
  (table $t 1 funcref)
  (memory (export "memory") 2)
  (data (i32.const 0) "{\22metadata\22:{}}") ;; 15 bytes
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (table.grow $t (ref.null func) (i32.const 1)) (i32.const -1)))
        (br_if $more (i32.lt_u (table.size $t) (i32.const 20000)))))
    (if (i32.ne (table.size $t) (i32.const 10000)) (then unreachable))
    (i64.const 15)))  ;; address 0, length 15
