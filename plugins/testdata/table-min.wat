;; table-min.wat: declares a table of 20,000 elements, over the default
;; max_table_elements of 10,000: it must be refused at load.
(module
  (table 20000 funcref)
  (memory (export "memory") 2)
  (func (export "registrar_abi_version") (result i32) (i32.const 1))
  (func (export "registrar_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "registrar_policy") (param i32 i32) (result i64) (i64.const 0)))
