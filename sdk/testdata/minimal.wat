;; minimal.wat: a complete ABI v1 policy module, written by hand from
;; sdk/ABI.md alone, to show the calling convention with nothing in between.
;; sdk/ABI.md §6 shows this file as it is; a test keeps the two the same.
;;
;; It exports the policy hook. It accepts the request's metadata unchanged,
;; unless a string in the metadata begins with http:// (the bytes "http://
;; appear in it), which it rejects with invalid_redirect_uri. It does not
;; parse JSON: it finds the "metadata" member of the input by its text and
;; copies the object that follows, counting braces outside strings. That
;; relies on two things this host does (ABI.md §2): it writes input
;; documents as compact JSON, and no member before "metadata" can contain
;; that text. It compares bytes, so a client that writes \u0068ttp:// gets
;; past it: values keep the client's escapes. A real policy decodes the
;; JSON (the SDKs do).
;;
;; It holds the largest input the host allows: registrar_alloc grows the
;; memory to fit the input and an output of the same size.
;;
;; Build: wat2wasm minimal.wat -o minimal.wasm
(module
  (memory (export "memory") 1)

  ;; Constant text.
  (data (i32.const 0) "\22metadata\22:")            ;; 11 bytes: "metadata":
  (data (i32.const 16) "{\22metadata\22:")          ;; 12 bytes: {"metadata":
  (data (i32.const 32) "\22http://")                ;; 8 bytes: "http://
  (data (i32.const 64) "{\22error\22:\22invalid_redirect_uri\22,\22error_description\22:\22only https URLs are allowed\22}")
  (global $rejection_len i32 (i32.const 82))

  ;; The input goes at 1024; the output is written after it.
  (global $input i32 (i32.const 1024))

  (func (export "registrar_abi_version") (result i32)
    (i32.const 1))

  ;; registrar_alloc makes room for the input and for an output of about the
  ;; same size, growing memory when needed; 0 if memory cannot grow.
  (func (export "registrar_alloc") (param $size i32) (result i32)
    (local $need i32)
    ;; pages needed for 1024 + 2*size + 64 bytes
    (local.set $need
      (i32.shr_u
        (i32.add (i32.add (i32.const 1088) (i32.shl (local.get $size) (i32.const 1))) (i32.const 65535))
        (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $need) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.get $input))

  ;; find returns the address of the first n-byte match of pat in
  ;; [start, end), or -1.
  (func $find (param $start i32) (param $end i32) (param $pat i32) (param $n i32) (result i32)
    (block $none
      (loop $scan
        (br_if $none (i32.gt_u (i32.add (local.get $start) (local.get $n)) (local.get $end)))
        (if (call $equal (local.get $start) (local.get $pat) (local.get $n))
          (then (return (local.get $start))))
        (local.set $start (i32.add (local.get $start) (i32.const 1)))
        (br $scan)))
    (i32.const -1))

  ;; equal reports whether the n bytes at p and at q are the same (1) or not (0).
  (func $equal (param $p i32) (param $q i32) (param $n i32) (result i32)
    (loop $next
      (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
      (if (i32.ne (i32.load8_u (local.get $p)) (i32.load8_u (local.get $q)))
        (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))
    (i32.const 0))

  ;; object_end returns the address just after the JSON object starting at
  ;; p (a "{"), skipping braces inside strings; -1 if it does not end
  ;; before end.
  (func $object_end (param $p i32) (param $end i32) (result i32)
    (local $depth i32) (local $in_string i32) (local $c i32)
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (local.get $in_string)
        (then
          (if (i32.eq (local.get $c) (i32.const 92))          ;; backslash: skip the next byte
            (then (local.set $p (i32.add (local.get $p) (i32.const 1))))
            (else (if (i32.eq (local.get $c) (i32.const 34))   ;; closing quote
              (then (local.set $in_string (i32.const 0)))))))
        (else
          (if (i32.eq (local.get $c) (i32.const 34)) (then (local.set $in_string (i32.const 1))))
          (if (i32.eq (local.get $c) (i32.const 123)) (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
          (if (i32.eq (local.get $c) (i32.const 125))
            (then
              (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
              (if (i32.eqz (local.get $depth)) (then (return (local.get $p))))))))
      (br $next))
    (i32.const -1))

  ;; pack makes the i64 result: address in the high half, length in the low.
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  (func (export "registrar_policy") (param $ptr i32) (param $len i32) (result i64)
    (local $end i32) (local $obj i32) (local $obj_end i32) (local $out i32) (local $n i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    ;; Find "metadata": and the object after it.
    (local.set $obj (call $find (local.get $ptr) (local.get $end) (i32.const 0) (i32.const 11)))
    (if (i32.eq (local.get $obj) (i32.const -1)) (then unreachable))
    (local.set $obj (i32.add (local.get $obj) (i32.const 11)))
    (local.set $obj_end (call $object_end (local.get $obj) (local.get $end)))
    (if (i32.eq (local.get $obj_end) (i32.const -1)) (then unreachable))
    ;; Reject an http URL.
    (if (i32.ne (call $find (local.get $obj) (local.get $obj_end) (i32.const 32) (i32.const 8)) (i32.const -1))
      (then (return (call $pack (i32.const 64) (global.get $rejection_len)))))
    ;; Accept: {"metadata":<the object>}
    (local.set $out (local.get $end))
    (memory.copy (local.get $out) (i32.const 16) (i32.const 12))
    (local.set $n (i32.sub (local.get $obj_end) (local.get $obj)))
    (memory.copy (i32.add (local.get $out) (i32.const 12)) (local.get $obj) (local.get $n))
    (i32.store8 (i32.add (local.get $out) (i32.add (local.get $n) (i32.const 12))) (i32.const 125))
    (call $pack (local.get $out) (i32.add (local.get $n) (i32.const 13))))
)
