;; trusted-hosts in WebAssembly text, written by hand against sdk/ABI.md
;; alone: no SDK, no compiler, no libc. It accepts redirect URIs, post-logout
;; redirect URIs and client URIs only on the hosts its configuration trusts,
;; and gives clients without a name a default one, by the rules of the
;; example's README, exactly as the Go, Rust, C and AssemblyScript versions
;; do: all five pass ../cases.json.
;;
;; It reads JSON as Registrar writes it (valid, without insignificant white
;; space, though white space is skipped): it walks the input once, decodes
;; only the strings it needs, and writes the output by copying the input's
;; metadata, inserting client_name when it sets it.
;;
;; Build: wat2wasm policy.wat -o policy.wasm
;;
;; Memory:
;;   0 .. 4095       constant strings, each a length byte then its bytes
;;   4096 .. 4111    the IP address being parsed (16 bytes)
;;   8192 .. 65535   the configuration, kept between calls (a cache)
;;   65536 ..        the input document, then scratch space for the call,
;;                   reset at every call
(module
  (import "registrar" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)

  ;; ---- constants: "\NN" is the length, then the bytes ----
  (data (i32.const 0) "\06config")
  (data (i32.const 96) "\08metadata")
  (data (i32.const 192) "\05hosts")
  (data (i32.const 288) "\13default_client_name")
  (data (i32.const 384) "\19allow_private_use_schemes")
  (data (i32.const 480) "\0dredirect_uris")
  (data (i32.const 576) "\19post_logout_redirect_uris")
  (data (i32.const 672) "\0aclient_uri")
  (data (i32.const 768) "\0bclient_uri#")
  (data (i32.const 864) "\0bclient_name")
  (data (i32.const 960) "\04true")
  (data (i32.const 1056) "\05false")
  (data (i32.const 1152) "\04null")
  (data (i32.const 1248) "\05https")
  (data (i32.const 1344) "\04http")
  (data (i32.const 1440) "\0c{\"metadata\":")
  (data (i32.const 1536) "\0e\"client_name\":")
  (data (i32.const 1632) "\0a{\"error\":\"")
  (data (i32.const 1728) "\17\",\"error_description\":\"")
  (data (i32.const 1824) "\02\"}")
  (data (i32.const 1920) "\14invalid_redirect_uri")
  (data (i32.const 2016) "\17invalid_client_metadata")
  (data (i32.const 2112) "\3fmust not contain white space, control characters or backslashes")
  (data (i32.const 2208) "\16is not an absolute URI")
  (data (i32.const 2304) "\0bhas no host")
  (data (i32.const 2400) "\21must not contain user information")
  (data (i32.const 2496) "\13has an invalid host")
  (data (i32.const 2592) "\1bhas an invalid IPv6 address")
  (data (i32.const 2688) "\13has an invalid port")
  (data (i32.const 2784) "\15has an invalid host: ")
  (data (i32.const 2880) "\18is not on a trusted host")
  (data (i32.const 2976) "\1aan IPv6 zone is not a host")
  (data (i32.const 3072) "\23a host name has 1 to 253 characters")
  (data (i32.const 3168) "\2ca host name's labels have 1 to 63 characters")
  (data (i32.const 3264) "\31a host name has only letters, digits, '-' and '_'")
  (data (i32.const 3360) "\1c must be an array of strings")
  (data (i32.const 3456) "\11 must be a string")
  (data (i32.const 3552) "\23registrar: the policy hook failed: ")
  (data (i32.const 3648) "\46no configuration: set policy_config.trusted-hosts.hosts for the tenant")
  (data (i32.const 3744) "\23configuration must be a JSON object")
  (data (i32.const 3840) "\3cconfiguration: hosts must be a non-empty array of host names")
  (data (i32.const 3936) "\4econfiguration: hosts: an entry is not a host name, an IP address or *.<domain>")
  ;; 4096: the IP address being parsed
  (data (i32.const 4128) "\33configuration: default_client_name must be a string")
  (data (i32.const 4224) "\3econfiguration: allow_private_use_schemes must be true or false")
  (data (i32.const 4320) "\24the input document is not valid JSON")
  (data (i32.const 4416) "\26the configuration is too large to keep")
  (data (i32.const 4512) "\04xn--")
  (data (i32.const 4608) "\07::ffff:")
  (data (i32.const 4704) "\03...")
  (data (i32.const 4800) "\0dout of memory")
  ;; 4896: 16 zero bytes, compared with the start of an IPv4-mapped address
  (data (i32.const 4992) "\100123456789abcdef")

  (global $IP i32 (i32.const 4096))
  (global $ZEROS i32 (i32.const 4896))
  (global $HEX i32 (i32.const 4993))

  ;; The configuration cache.
  (global $CFG_RAW_LEN i32 (i32.const 8192))     ;; i32: length of the cached raw config, 0: none
  (global $CFG_N i32 (i32.const 8196))           ;; i32: number of patterns
  (global $CFG_PRIVATE i32 (i32.const 8200))     ;; i32: allow_private_use_schemes
  (global $CFG_NAME_PTR i32 (i32.const 8204))    ;; i32: default_client_name as raw JSON (quotes included)
  (global $CFG_NAME_LEN i32 (i32.const 8208))    ;; i32: its length; 0: none
  (global $CFG_PATTERNS i32 (i32.const 8448))    ;; 12 bytes each: host ptr, host len, wildcard
  (global $CFG_MAX_PATTERNS i32 (i32.const 256))
  (global $CFG_RAW i32 (i32.const 12288))        ;; the raw config, up to 20,480 bytes
  (global $CFG_RAW_MAX i32 (i32.const 20480))
  (global $CFG_STRINGS i32 (i32.const 32768))    ;; canonical hosts and the default name
  (global $CFG_STRINGS_END i32 (i32.const 65536))
  (global $cfg_next (mut i32) (i32.const 32768))

  (global $INPUT i32 (i32.const 65536))
  (global $end (mut i32) (i32.const 0))          ;; end of the input document
  (global $heap (mut i32) (i32.const 65536))     ;; next free byte of scratch space

  ;; Second results of some functions.
  (global $after (mut i32) (i32.const 0))        ;; position after what was read
  (global $key (mut i32) (i32.const 0))          ;; decoded member name
  (global $key_len (mut i32) (i32.const 0))
  (global $host (mut i32) (i32.const 0))         ;; canonical host
  (global $host_len (mut i32) (i32.const 0))
  (global $msg2 (mut i32) (i32.const 0))         ;; the inner message of "has an invalid host: ..."
  (global $ip_v6 (mut i32) (i32.const 0))
  (global $ip_zone (mut i32) (i32.const 0))

  ;; The output document.
  (global $out (mut i32) (i32.const 0))
  (global $olen (mut i32) (i32.const 0))

  ;; ================= the ABI (sdk/ABI.md §1) =================

  (func (export "registrar_abi_version") (result i32) (i32.const 1))

  ;; registrar_alloc puts the input at 65536, after growing memory to hold it.
  (func (export "registrar_alloc") (param $size i32) (result i32)
    (global.set $heap (global.get $INPUT))
    (if (i32.eqz (call $grow_to (i32.add (global.get $INPUT) (local.get $size))))
      (then (return (i32.const 0))))
    (global.get $INPUT))

  ;; grow_to makes memory at least n bytes long; 0 if it cannot grow.
  (func $grow_to (param $n i32) (result i32)
    (local $pages i32)
    (local.set $pages (i32.shr_u (i32.add (local.get $n) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 1))

  ;; reserve returns n bytes of scratch space.
  (func $reserve (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $n)))
    (if (i32.eqz (call $grow_to (global.get $heap)))
      (then (call $fail (i32.const 4800))))
    (local.get $p))

  ;; fail logs "registrar: the policy hook failed: <constant>" and traps.
  (func $fail (param $msg i32)
    (local $line i32) (local $n i32)
    (global.set $heap (global.get $end))
    (local.set $line (global.get $heap))
    (local.set $n (call $put_const (local.get $line) (i32.const 3552)))
    (local.set $n (i32.add (local.get $n)
      (call $put_const (i32.add (local.get $line) (local.get $n)) (local.get $msg))))
    (call $log (i32.const 3) (local.get $line) (local.get $n))
    unreachable)

  ;; ================= small helpers =================

  (func $clen (param $k i32) (result i32) (i32.load8_u (local.get $k)))

  ;; put_const copies a constant to p and returns its length.
  (func $put_const (param $p i32) (param $k i32) (result i32)
    (memory.copy (local.get $p) (i32.add (local.get $k) (i32.const 1)) (call $clen (local.get $k)))
    (call $clen (local.get $k)))

  ;; eq reports whether two byte strings are equal.
  (func $eq (param $a i32) (param $an i32) (param $b i32) (param $bn i32) (result i32)
    (if (i32.ne (local.get $an) (local.get $bn)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $an)))
        (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
          (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $an (i32.sub (local.get $an) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  (func $eq_const (param $p i32) (param $n i32) (param $k i32) (result i32)
    (call $eq (local.get $p) (local.get $n) (i32.add (local.get $k) (i32.const 1)) (call $clen (local.get $k))))

  ;; lower returns an ASCII letter in lower case, any other byte as it is.
  (func $lower (param $c i32) (result i32)
    (if (result i32) (i32.and (i32.ge_u (local.get $c) (i32.const 65)) (i32.le_u (local.get $c) (i32.const 90)))
      (then (i32.add (local.get $c) (i32.const 32)))
      (else (local.get $c))))

  ;; eq_fold_const compares ASCII case-insensitively with a lower-case constant.
  (func $eq_fold_const (param $p i32) (param $n i32) (param $k i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $n) (call $clen (local.get $k))) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (call $lower (i32.load8_u (i32.add (local.get $p) (local.get $i))))
                    (i32.load8_u (i32.add (i32.add (local.get $k) (i32.const 1)) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; index returns the offset of the first byte c in [p, p+n), or -1.
  (func $index (param $p i32) (param $n i32) (param $c i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (local.get $c))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  ;; last_index returns the offset of the last byte c in [p, p+n), or -1.
  (func $last_index (param $p i32) (param $n i32) (param $c i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $n))) (local.get $c))
          (then (return (local.get $n))))
        (br $next)))
    (i32.const -1))

  (func $is_digit (param $c i32) (result i32)
    (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57))))

  (func $is_lower (param $c i32) (result i32)
    (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122))))

  ;; hexval returns the value of a hex digit, or -1.
  (func $hexval (param $c i32) (result i32)
    (if (call $is_digit (local.get $c)) (then (return (i32.sub (local.get $c) (i32.const 48)))))
    (local.set $c (i32.or (local.get $c) (i32.const 32)))
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 102)))
      (then (return (i32.sub (local.get $c) (i32.const 87)))))
    (i32.const -1))

  ;; put_utf8 writes a code point as UTF-8 at p and returns its length.
  (func $put_utf8 (param $p i32) (param $c i32) (result i32)
    (if (i32.lt_u (local.get $c) (i32.const 0x80))
      (then (i32.store8 (local.get $p) (local.get $c)) (return (i32.const 1))))
    (if (i32.lt_u (local.get $c) (i32.const 0x800))
      (then
        (i32.store8 (local.get $p) (i32.or (i32.const 0xc0) (i32.shr_u (local.get $c) (i32.const 6))))
        (i32.store8 offset=1 (local.get $p) (i32.or (i32.const 0x80) (i32.and (local.get $c) (i32.const 0x3f))))
        (return (i32.const 2))))
    (if (i32.lt_u (local.get $c) (i32.const 0x10000))
      (then
        (i32.store8 (local.get $p) (i32.or (i32.const 0xe0) (i32.shr_u (local.get $c) (i32.const 12))))
        (i32.store8 offset=1 (local.get $p) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 0x3f))))
        (i32.store8 offset=2 (local.get $p) (i32.or (i32.const 0x80) (i32.and (local.get $c) (i32.const 0x3f))))
        (return (i32.const 3))))
    (i32.store8 (local.get $p) (i32.or (i32.const 0xf0) (i32.shr_u (local.get $c) (i32.const 18))))
    (i32.store8 offset=1 (local.get $p) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $c) (i32.const 12)) (i32.const 0x3f))))
    (i32.store8 offset=2 (local.get $p) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 0x3f))))
    (i32.store8 offset=3 (local.get $p) (i32.or (i32.const 0x80) (i32.and (local.get $c) (i32.const 0x3f))))
    (i32.const 4))

  ;; utf8_len returns the length of the UTF-8 sequence that starts with c.
  (func $utf8_len (param $c i32) (result i32)
    (if (i32.lt_u (local.get $c) (i32.const 0x80)) (then (return (i32.const 1))))
    (if (i32.lt_u (local.get $c) (i32.const 0xe0)) (then (return (i32.const 2))))
    (if (i32.lt_u (local.get $c) (i32.const 0xf0)) (then (return (i32.const 3))))
    (i32.const 4))

  ;; put_dec writes a number below 1000 in decimal; returns its length.
  (func $put_dec (param $p i32) (param $v i32) (result i32)
    (local $n i32)
    (if (i32.ge_u (local.get $v) (i32.const 100))
      (then
        (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.div_u (local.get $v) (i32.const 100))))
        (local.set $n (i32.const 1))))
    (if (i32.ge_u (local.get $v) (i32.const 10))
      (then
        (i32.store8 (i32.add (local.get $p) (local.get $n))
          (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $v) (i32.const 10)) (i32.const 10))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))))
    (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
    (i32.add (local.get $n) (i32.const 1)))

  ;; put_hex writes a 16-bit number in lower-case hex without leading
  ;; zeros; returns its length.
  (func $put_hex (param $p i32) (param $v i32) (result i32)
    (local $shift i32) (local $n i32) (local $d i32)
    (local.set $shift (i32.const 12))
    (block $done
      (loop $next
        (local.set $d (i32.and (i32.shr_u (local.get $v) (local.get $shift)) (i32.const 15)))
        (if (i32.or (i32.or (local.get $n) (local.get $d)) (i32.eqz (local.get $shift)))
          (then
            (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.load8_u (i32.add (global.get $HEX) (local.get $d))))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (br_if $done (i32.eqz (local.get $shift)))
        (local.set $shift (i32.sub (local.get $shift) (i32.const 4)))
        (br $next)))
    (local.get $n))

  ;; ================= JSON =================

  ;; ws skips white space.
  (func $ws (param $p i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (global.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
                                      (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; peek returns the byte at p, or 0 at the end.
  (func $peek (param $p i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $p) (global.get $end))
      (then (i32.load8_u (local.get $p)))
      (else (i32.const 0))))

  ;; str_end returns the position after the string that starts at p (a
  ;; quote), failing the call if it does not end.
  (func $str_end (param $p i32) (result i32)
    (local $c i32)
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $next
      (if (i32.ge_u (local.get $p) (global.get $end)) (then (call $fail (i32.const 4320))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then (return (i32.add (local.get $p) (i32.const 1)))))
      (local.set $p (i32.add (local.get $p)
        (select (i32.const 2) (i32.const 1) (i32.eq (local.get $c) (i32.const 92)))))
      (br $next))
    (unreachable))

  ;; skip returns the position after the value at p (after white space).
  (func $skip (param $p i32) (result i32)
    (local $c i32) (local $depth i32)
    (local.set $p (call $ws (local.get $p)))
    (local.set $c (call $peek (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 34)) (then (return (call $str_end (local.get $p)))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
      (then
        (loop $next
          (if (i32.ge_u (local.get $p) (global.get $end)) (then (call $fail (i32.const 4320))))
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.eq (local.get $c) (i32.const 34))
            (then (local.set $p (call $str_end (local.get $p))) (br $next)))
          (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
            (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
          (if (i32.or (i32.eq (local.get $c) (i32.const 125)) (i32.eq (local.get $c) (i32.const 93)))
            (then
              (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
              (if (i32.eqz (local.get $depth)) (then (return (i32.add (local.get $p) (i32.const 1)))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next))))
    ;; a number or a literal: a run of [0-9a-zA-Z+-.]
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (global.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (i32.or (i32.or (call $is_digit (local.get $c)) (call $is_lower (i32.or (local.get $c) (i32.const 32))))
                                      (i32.or (i32.or (i32.eq (local.get $c) (i32.const 43)) (i32.eq (local.get $c) (i32.const 45)))
                                              (i32.eq (local.get $c) (i32.const 46))))))
        (local.set $depth (i32.const 1))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (if (i32.eqz (local.get $depth)) (then (call $fail (i32.const 4320))))
    (local.get $p))

  ;; is_null reports whether the value at p is null.
  (func $is_null (param $p i32) (result i32)
    (i32.and (i32.le_u (i32.add (local.get $p) (i32.const 4)) (global.get $end))
      (call $eq_const (local.get $p) (i32.const 4) (i32.const 1152))))

  ;; hex4 reads four hex digits at p (valid JSON has them).
  (func $hex4 (param $p i32) (result i32)
    (i32.or (i32.or (i32.shl (call $hexval (i32.load8_u (local.get $p))) (i32.const 12))
                    (i32.shl (call $hexval (i32.load8_u offset=1 (local.get $p))) (i32.const 8)))
            (i32.or (i32.shl (call $hexval (i32.load8_u offset=2 (local.get $p))) (i32.const 4))
                    (call $hexval (i32.load8_u offset=3 (local.get $p))))))

  ;; decode decodes the JSON string at p (a quote) as UTF-8 into scratch
  ;; space and returns where; its length is in $key_len, the position after
  ;; it in $after. Lone surrogates become U+FFFD.
  (func $decode (param $p i32) (result i32)
    (local $out i32) (local $n i32) (local $c i32) (local $r i32) (local $r2 i32) (local $last i32)
    (local.set $last (call $str_end (local.get $p)))
    ;; a decoded string is never longer than its JSON
    (local.set $out (call $reserve (i32.sub (local.get $last) (local.get $p))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (block $done
      (loop $next
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eq (local.get $c) (i32.const 34)))
        (if (i32.ne (local.get $c) (i32.const 92))
          (then
            (i32.store8 (i32.add (local.get $out) (local.get $n)) (local.get $c))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $next)))
        (local.set $c (i32.load8_u offset=1 (local.get $p)))
        (if (i32.ne (local.get $c) (i32.const 117)) ;; not \u
          (then
            (if (i32.eq (local.get $c) (i32.const 98)) (then (local.set $c (i32.const 8))))
            (if (i32.eq (local.get $c) (i32.const 102)) (then (local.set $c (i32.const 12))))
            (if (i32.eq (local.get $c) (i32.const 110)) (then (local.set $c (i32.const 10))))
            (if (i32.eq (local.get $c) (i32.const 114)) (then (local.set $c (i32.const 13))))
            (if (i32.eq (local.get $c) (i32.const 116)) (then (local.set $c (i32.const 9))))
            (i32.store8 (i32.add (local.get $out) (local.get $n)) (local.get $c))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (br $next)))
        (local.set $r (call $hex4 (i32.add (local.get $p) (i32.const 2))))
        (local.set $p (i32.add (local.get $p) (i32.const 6)))
        (if (i32.and (i32.ge_u (local.get $r) (i32.const 0xd800)) (i32.lt_u (local.get $r) (i32.const 0xdc00)))
          (then
            (local.set $r2 (i32.const 0))
            (if (i32.and (i32.eq (i32.load8_u (local.get $p)) (i32.const 92)) (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 117)))
              (then (local.set $r2 (call $hex4 (i32.add (local.get $p) (i32.const 2))))))
            (if (i32.and (i32.ge_u (local.get $r2) (i32.const 0xdc00)) (i32.lt_u (local.get $r2) (i32.const 0xe000)))
              (then
                (local.set $r (i32.add (i32.const 0x10000)
                  (i32.or (i32.shl (i32.sub (local.get $r) (i32.const 0xd800)) (i32.const 10)) (i32.sub (local.get $r2) (i32.const 0xdc00)))))
                (local.set $p (i32.add (local.get $p) (i32.const 6))))
              (else (local.set $r (i32.const 0xfffd)))))
          (else
            (if (i32.and (i32.ge_u (local.get $r) (i32.const 0xdc00)) (i32.lt_u (local.get $r) (i32.const 0xe000)))
              (then (local.set $r (i32.const 0xfffd))))))
        (local.set $n (i32.add (local.get $n) (call $put_utf8 (i32.add (local.get $out) (local.get $n)) (local.get $r))))
        (br $next)))
    (global.set $key_len (local.get $n))
    (global.set $after (local.get $last))
    (local.get $out))

  ;; member reads the member at p in an object: when first, p is at the
  ;; object's '{'; else after the previous value. It returns the position of
  ;; the member's value, with its decoded name in $key/$key_len, or 0 at the
  ;; end of the object (then $after is after its '}').
  (func $member (param $p i32) (param $first i32) (result i32)
    (local.set $p (call $ws (local.get $p)))
    (if (local.get $first)
      (then
        (if (i32.ne (call $peek (local.get $p)) (i32.const 123)) (then (call $fail (i32.const 4320))))
        (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1))))
        (if (i32.eq (call $peek (local.get $p)) (i32.const 125))
          (then (global.set $after (i32.add (local.get $p) (i32.const 1))) (return (i32.const 0)))))
      (else
        (if (i32.eq (call $peek (local.get $p)) (i32.const 125))
          (then (global.set $after (i32.add (local.get $p) (i32.const 1))) (return (i32.const 0))))
        (if (i32.ne (call $peek (local.get $p)) (i32.const 44)) (then (call $fail (i32.const 4320))))
        (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1))))))
    (if (i32.ne (call $peek (local.get $p)) (i32.const 34)) (then (call $fail (i32.const 4320))))
    (global.set $key (call $decode (local.get $p)))
    (local.set $p (call $ws (global.get $after)))
    (if (i32.ne (call $peek (local.get $p)) (i32.const 58)) (then (call $fail (i32.const 4320))))
    (call $ws (i32.add (local.get $p) (i32.const 1))))

  ;; string_array reports whether the value at p is an array of strings.
  (func $string_array (param $p i32) (result i32)
    (if (i32.ne (call $peek (local.get $p)) (i32.const 91)) (then (return (i32.const 0))))
    (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1))))
    (if (i32.eq (call $peek (local.get $p)) (i32.const 93)) (then (return (i32.const 1))))
    (loop $next
      (if (i32.ne (call $peek (local.get $p)) (i32.const 34)) (then (return (i32.const 0))))
      (local.set $p (call $ws (call $str_end (local.get $p))))
      (if (i32.eq (call $peek (local.get $p)) (i32.const 44))
        (then (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)))) (br $next))))
    (i32.const 1))

  ;; ================= IP addresses (Go's net/netip rules) =================

  ;; parse_ipv4 reads dotted decimal without leading zeros into out[0..3].
  (func $parse_ipv4 (param $s i32) (param $n i32) (param $out i32) (result i32)
    (local $i i32) (local $c i32) (local $val i32) (local $pos i32) (local $digits i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $s) (local.get $i))))
        (if (call $is_digit (local.get $c))
          (then
            (if (i32.and (i32.eq (local.get $digits) (i32.const 1)) (i32.eqz (local.get $val)))
              (then (return (i32.const 0)))) ;; a leading zero
            (local.set $val (i32.add (i32.mul (local.get $val) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
            (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
            (if (i32.gt_u (local.get $val) (i32.const 255)) (then (return (i32.const 0)))))
          (else
            (if (i32.ne (local.get $c) (i32.const 46)) (then (return (i32.const 0))))
            (if (i32.or (i32.or (i32.eqz (local.get $i)) (i32.eq (local.get $i) (i32.sub (local.get $n) (i32.const 1))))
                        (i32.or (i32.eq (i32.load8_u (i32.sub (i32.add (local.get $s) (local.get $i)) (i32.const 1))) (i32.const 46))
                                (i32.eq (local.get $pos) (i32.const 3))))
              (then (return (i32.const 0))))
            (i32.store8 (i32.add (local.get $out) (local.get $pos)) (local.get $val))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $val (i32.const 0))
            (local.set $digits (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.lt_u (local.get $pos) (i32.const 3)) (then (return (i32.const 0))))
    (i32.store8 offset=3 (local.get $out) (local.get $val))
    (i32.const 1))

  ;; parse_ipv6 reads an IPv6 address with an optional %zone into $IP.
  (func $parse_ipv6 (param $s i32) (param $n i32) (result i32)
    (local $pct i32) (local $ellipsis i32) (local $i i32) (local $off i32) (local $acc i32) (local $d i32) (local $j i32)
    (global.set $ip_v6 (i32.const 1))
    (global.set $ip_zone (i32.const 0))
    (memory.fill (global.get $IP) (i32.const 0) (i32.const 16))
    (local.set $pct (call $index (local.get $s) (local.get $n) (i32.const 37)))
    (if (i32.ge_s (local.get $pct) (i32.const 0))
      (then
        (if (i32.eq (i32.add (local.get $pct) (i32.const 1)) (local.get $n)) (then (return (i32.const 0)))) ;; an empty zone
        (local.set $n (local.get $pct))
        (global.set $ip_zone (i32.const 1))))
    (local.set $ellipsis (i32.const -1))
    (if (i32.and (i32.ge_u (local.get $n) (i32.const 2))
                 (i32.and (i32.eq (i32.load8_u (local.get $s)) (i32.const 58)) (i32.eq (i32.load8_u offset=1 (local.get $s)) (i32.const 58))))
      (then
        (local.set $ellipsis (i32.const 0))
        (local.set $s (i32.add (local.get $s) (i32.const 2)))
        (local.set $n (i32.sub (local.get $n) (i32.const 2)))
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))))
    (block $groups
      (loop $group
        (br_if $groups (i32.ge_u (local.get $i) (i32.const 16)))
        (local.set $off (i32.const 0))
        (local.set $acc (i32.const 0))
        (block $digits
          (loop $digit
            (br_if $digits (i32.ge_u (local.get $off) (local.get $n)))
            (local.set $d (call $hexval (i32.load8_u (i32.add (local.get $s) (local.get $off)))))
            (br_if $digits (i32.lt_s (local.get $d) (i32.const 0)))
            (local.set $acc (i32.or (i32.shl (local.get $acc) (i32.const 4)) (local.get $d)))
            (if (i32.or (i32.gt_u (local.get $off) (i32.const 3)) (i32.gt_u (local.get $acc) (i32.const 0xffff)))
              (then (return (i32.const 0))))
            (local.set $off (i32.add (local.get $off) (i32.const 1)))
            (br $digit)))
        (if (i32.eqz (local.get $off)) (then (return (i32.const 0))))
        ;; a trailing IPv4 address
        (if (i32.and (i32.lt_u (local.get $off) (local.get $n)) (i32.eq (i32.load8_u (i32.add (local.get $s) (local.get $off))) (i32.const 46)))
          (then
            (if (i32.or (i32.and (i32.lt_s (local.get $ellipsis) (i32.const 0)) (i32.ne (local.get $i) (i32.const 12)))
                        (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (i32.const 16)))
              (then (return (i32.const 0))))
            (if (i32.eqz (call $parse_ipv4 (local.get $s) (local.get $n) (i32.add (global.get $IP) (local.get $i))))
              (then (return (i32.const 0))))
            (local.set $n (i32.const 0))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $groups)))
        (i32.store8 (i32.add (global.get $IP) (local.get $i)) (i32.shr_u (local.get $acc) (i32.const 8)))
        (i32.store8 offset=1 (i32.add (global.get $IP) (local.get $i)) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (local.set $s (i32.add (local.get $s) (local.get $off)))
        (local.set $n (i32.sub (local.get $n) (local.get $off)))
        (br_if $groups (i32.eqz (local.get $n)))
        (if (i32.or (i32.ne (i32.load8_u (local.get $s)) (i32.const 58)) (i32.eq (local.get $n) (i32.const 1)))
          (then (return (i32.const 0))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (if (i32.eq (i32.load8_u (local.get $s)) (i32.const 58))
          (then
            (if (i32.ge_s (local.get $ellipsis) (i32.const 0)) (then (return (i32.const 0))))
            (local.set $ellipsis (local.get $i))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $groups (i32.eqz (local.get $n)))))
        (br $group)))
    (if (local.get $n) (then (return (i32.const 0))))
    (if (i32.lt_u (local.get $i) (i32.const 16))
      (then
        (if (i32.lt_s (local.get $ellipsis) (i32.const 0)) (then (return (i32.const 0))))
        ;; move the groups after the ellipsis to the end, zeros in between
        (local.set $d (i32.sub (i32.const 16) (local.get $i)))
        (memory.copy (i32.add (i32.add (global.get $IP) (local.get $ellipsis)) (local.get $d))
                     (i32.add (global.get $IP) (local.get $ellipsis))
                     (i32.sub (local.get $i) (local.get $ellipsis)))
        (memory.fill (i32.add (global.get $IP) (local.get $ellipsis)) (i32.const 0) (local.get $d)))
      (else
        (if (i32.ge_s (local.get $ellipsis) (i32.const 0)) (then (return (i32.const 0)))))) ;; :: must stand for a group
    (i32.const 1))

  ;; parse_addr reads an IP address as Go's netip.ParseAddr does, into $IP.
  (func $parse_addr (param $s i32) (param $n i32) (result i32)
    (local $i i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $s) (local.get $i))))
        (if (i32.eq (local.get $c) (i32.const 46))
          (then
            (global.set $ip_v6 (i32.const 0))
            (global.set $ip_zone (i32.const 0))
            (return (call $parse_ipv4 (local.get $s) (local.get $n) (i32.add (global.get $IP) (i32.const 12))))))
        (if (i32.eq (local.get $c) (i32.const 58)) (then (return (call $parse_ipv6 (local.get $s) (local.get $n)))))
        (if (i32.eq (local.get $c) (i32.const 37)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; format_addr prints $IP as netip does (RFC 5952; ::ffff:a.b.c.d for an
  ;; IPv4-mapped address) at p and returns the length.
  (func $format_addr (param $p i32) (result i32)
    (local $n i32) (local $k i32) (local $j i32) (local $zs i32) (local $ze i32)
    (if (i32.eqz (global.get $ip_v6)) (then (return (call $put_v4 (local.get $p)))))
    ;; IPv4-mapped: 10 zero bytes, then ff ff
    (if (i32.and (call $eq (global.get $IP) (i32.const 10) (i32.const 4897) (i32.const 10))
                 (i32.eq (i32.load16_u offset=10 (global.get $IP)) (i32.const 0xffff)))
      (then
        (local.set $n (call $put_const (local.get $p) (i32.const 4608)))
        (return (i32.add (local.get $n) (call $put_v4 (i32.add (local.get $p) (local.get $n)))))))
    ;; the first longest run of two or more zero groups becomes "::"
    (local.set $zs (i32.const 8))
    (local.set $ze (i32.const 8))
    (block $runs
      (loop $run
        (br_if $runs (i32.ge_u (local.get $k) (i32.const 8)))
        (local.set $j (local.get $k))
        (block $zeros
          (loop $zero
            (br_if $zeros (i32.ge_u (local.get $j) (i32.const 8)))
            (br_if $zeros (call $group (local.get $j)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $zero)))
        (if (i32.and (i32.ge_u (i32.sub (local.get $j) (local.get $k)) (i32.const 2))
                     (i32.gt_u (i32.sub (local.get $j) (local.get $k)) (i32.sub (local.get $ze) (local.get $zs))))
          (then (local.set $zs (local.get $k)) (local.set $ze (local.get $j))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $run)))
    (local.set $k (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (i32.const 8)))
        (if (i32.eq (local.get $k) (local.get $zs))
          (then
            (i32.store16 (i32.add (local.get $p) (local.get $n)) (i32.const 0x3a3a))
            (local.set $n (i32.add (local.get $n) (i32.const 2)))
            (local.set $k (local.get $ze))
            (br_if $done (i32.ge_u (local.get $k) (i32.const 8))))
          (else
            (if (local.get $k)
              (then
                (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.const 58))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))))
        (local.set $n (i32.add (local.get $n) (call $put_hex (i32.add (local.get $p) (local.get $n)) (call $group (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; group returns the k-th 16-bit group of $IP.
  (func $group (param $k i32) (result i32)
    (local $p i32)
    (local.set $p (i32.add (global.get $IP) (i32.shl (local.get $k) (i32.const 1))))
    (i32.or (i32.shl (i32.load8_u (local.get $p)) (i32.const 8)) (i32.load8_u offset=1 (local.get $p))))

  ;; put_v4 writes the last four bytes of $IP in dotted decimal.
  (func $put_v4 (param $p i32) (result i32)
    (local $n i32) (local $k i32)
    (loop $next
      (if (local.get $k)
        (then
          (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.const 46))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (local.set $n (i32.add (local.get $n)
        (call $put_dec (i32.add (local.get $p) (local.get $n))
          (i32.load8_u (i32.add (i32.add (global.get $IP) (i32.const 12)) (local.get $k))))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $k) (i32.const 4))))
    (local.get $n))

  ;; ================= host names =================

  ;; plain_name reports whether h is already a canonical DNS name but for a
  ;; trailing dot: lower-case ASCII labels of 1 to 63 letters, digits, '-'
  ;; and '_', with a letter in the last one (so that it is no IP address).
  (func $plain_name (param $h i32) (param $n i32) (result i32)
    (local $i i32) (local $c i32) (local $label i32) (local $letter i32)
    (if (i32.and (i32.gt_u (local.get $n) (i32.const 0))
                 (i32.eq (i32.load8_u (i32.sub (i32.add (local.get $h) (local.get $n)) (i32.const 1))) (i32.const 46)))
      (then (local.set $n (i32.sub (local.get $n) (i32.const 1)))))
    (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 253))) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $h) (local.get $i))))
        (if (call $is_lower (local.get $c))
          (then (local.set $letter (i32.const 1)))
          (else
            (if (i32.eq (local.get $c) (i32.const 46))
              (then
                (if (i32.eqz (local.get $label)) (then (return (i32.const 0))))
                (local.set $label (i32.const -1))
                (local.set $letter (i32.const 0)))
              (else
                (if (i32.eqz (i32.or (call $is_digit (local.get $c))
                                     (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 95)))))
                  (then (return (i32.const 0))))))))
        (local.set $label (i32.add (local.get $label) (i32.const 1)))
        (if (i32.gt_s (local.get $label) (i32.const 63)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.and (i32.gt_s (local.get $label) (i32.const 0)) (local.get $letter)))

  ;; punycode encodes the label at s (UTF-8) with RFC 3492's parameters at
  ;; out and returns the length.
  (func $punycode (param $s i32) (param $sn i32) (param $out i32) (result i32)
    (local $runes i32) (local $count i32) (local $i i32) (local $c i32) (local $len i32) (local $k i32)
    (local $o i32) (local $basic i32) (local $handled i32) (local $n i32) (local $delta i32) (local $bias i32)
    (local $m i32) (local $q i32) (local $kk i32) (local $t i32) (local $r i32)
    ;; decode the label into code points
    (local.set $runes (call $reserve (i32.shl (local.get $sn) (i32.const 2))))
    (block $decoded
      (loop $next
        (br_if $decoded (i32.ge_u (local.get $i) (local.get $sn)))
        (local.set $c (i32.load8_u (i32.add (local.get $s) (local.get $i))))
        (local.set $len (call $utf8_len (local.get $c)))
        (if (i32.gt_u (local.get $len) (i32.const 1))
          (then
            (local.set $c (i32.and (local.get $c) (i32.shr_u (i32.const 0x3f) (i32.sub (local.get $len) (i32.const 1)))))
            (local.set $k (i32.const 1))
            (loop $cont
              (local.set $c (i32.or (i32.shl (local.get $c) (i32.const 6))
                (i32.and (i32.load8_u (i32.add (i32.add (local.get $s) (local.get $i)) (local.get $k))) (i32.const 0x3f))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $cont (i32.lt_u (local.get $k) (local.get $len))))))
        (i32.store (i32.add (local.get $runes) (i32.shl (local.get $count) (i32.const 2))) (local.get $c))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (local.get $len)))
        (br $next)))
    ;; the basic code points first
    (local.set $i (i32.const 0))
    (block $copied
      (loop $next
        (br_if $copied (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $c (i32.load (i32.add (local.get $runes) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.lt_u (local.get $c) (i32.const 0x80))
          (then
            (i32.store8 (i32.add (local.get $out) (local.get $o)) (local.get $c))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $basic (local.get $o))
    (local.set $handled (local.get $o))
    (if (local.get $basic)
      (then
        (i32.store8 (i32.add (local.get $out) (local.get $o)) (i32.const 45))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))))
    (local.set $n (i32.const 128))
    (local.set $bias (i32.const 72))
    (block $all
      (loop $round
        (br_if $all (i32.ge_u (local.get $handled) (local.get $count)))
        ;; m: the smallest code point >= n
        (local.set $m (i32.const -1))
        (local.set $i (i32.const 0))
        (block $found
          (loop $scan
            (br_if $found (i32.ge_u (local.get $i) (local.get $count)))
            (local.set $r (i32.load (i32.add (local.get $runes) (i32.shl (local.get $i) (i32.const 2)))))
            (if (i32.and (i32.ge_u (local.get $r) (local.get $n)) (i32.lt_u (local.get $r) (local.get $m)))
              (then (local.set $m (local.get $r))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $scan)))
        (local.set $delta (i32.add (local.get $delta)
          (i32.mul (i32.sub (local.get $m) (local.get $n)) (i32.add (local.get $handled) (i32.const 1)))))
        (local.set $n (local.get $m))
        (local.set $i (i32.const 0))
        (block $each
          (loop $rune
            (br_if $each (i32.ge_u (local.get $i) (local.get $count)))
            (local.set $r (i32.load (i32.add (local.get $runes) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i32.lt_u (local.get $r) (local.get $n)) (then (local.set $delta (i32.add (local.get $delta) (i32.const 1)))))
            (br_if $rune (i32.ne (local.get $r) (local.get $n)))
            (local.set $q (local.get $delta))
            (local.set $kk (i32.const 36))
            (block $digits
              (loop $digit
                ;; t = clamp(kk - bias, 1, 26)
                (local.set $t
                  (if (result i32) (i32.le_u (local.get $kk) (local.get $bias))
                    (then (i32.const 1))
                    (else
                      (if (result i32) (i32.ge_u (local.get $kk) (i32.add (local.get $bias) (i32.const 26)))
                        (then (i32.const 26))
                        (else (i32.sub (local.get $kk) (local.get $bias)))))))
                (br_if $digits (i32.lt_u (local.get $q) (local.get $t)))
                (i32.store8 (i32.add (local.get $out) (local.get $o))
                  (call $digit (i32.add (local.get $t)
                    (i32.rem_u (i32.sub (local.get $q) (local.get $t)) (i32.sub (i32.const 36) (local.get $t))))))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (local.set $q (i32.div_u (i32.sub (local.get $q) (local.get $t)) (i32.sub (i32.const 36) (local.get $t))))
                (local.set $kk (i32.add (local.get $kk) (i32.const 36)))
                (br $digit)))
            (i32.store8 (i32.add (local.get $out) (local.get $o)) (call $digit (local.get $q)))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (local.set $bias (call $adapt (local.get $delta) (i32.add (local.get $handled) (i32.const 1))
                                          (i32.eq (local.get $handled) (local.get $basic))))
            (local.set $delta (i32.const 0))
            (local.set $handled (i32.add (local.get $handled) (i32.const 1)))
            (br $rune)))
        (local.set $delta (i32.add (local.get $delta) (i32.const 1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $round)))
    (local.get $o))

  (func $digit (param $d i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $d) (i32.const 26))
      (then (i32.add (i32.const 97) (local.get $d)))
      (else (i32.add (i32.const 22) (local.get $d))))) ;; '0' + d - 26

  (func $adapt (param $delta i32) (param $points i32) (param $first i32) (result i32)
    (local $k i32)
    (local.set $delta (i32.div_u (local.get $delta) (select (i32.const 700) (i32.const 2) (local.get $first))))
    (local.set $delta (i32.add (local.get $delta) (i32.div_u (local.get $delta) (local.get $points))))
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get $delta) (i32.const 455))) ;; ((36 - 1) * 26) / 2
        (local.set $delta (i32.div_u (local.get $delta) (i32.const 35)))
        (local.set $k (i32.add (local.get $k) (i32.const 36)))
        (br $next)))
    (i32.add (local.get $k) (i32.div_u (i32.mul (i32.const 36) (local.get $delta)) (i32.add (local.get $delta) (i32.const 38)))))

  ;; canonical_host puts the form of host h that trusted hosts are compared
  ;; in into $host/$host_len and returns 0, or returns why h is no host. See
  ;; the README: an IP address in netip's form; a DNS name with its ASCII
  ;; letters in lower case, without a trailing dot, non-ASCII labels in
  ;; punycode.
  (func $canonical_host (param $h i32) (param $n i32) (result i32)
    (local $low i32) (local $res i32) (local $rn i32) (local $i i32) (local $start i32) (local $l i32) (local $ln i32)
    (local $k i32) (local $c i32) (local $ascii i32)
    (if (call $plain_name (local.get $h) (local.get $n))
      (then
        (global.set $host (local.get $h))
        (global.set $host_len (i32.sub (local.get $n)
          (i32.eq (i32.load8_u (i32.sub (i32.add (local.get $h) (local.get $n)) (i32.const 1))) (i32.const 46))))
        (return (i32.const 0))))
    (if (call $parse_addr (local.get $h) (local.get $n))
      (then
        (if (global.get $ip_zone) (then (return (i32.const 2976))))
        (global.set $host (call $reserve (i32.const 48)))
        (global.set $host_len (call $format_addr (global.get $host)))
        (return (i32.const 0))))
    (if (i32.and (i32.gt_u (local.get $n) (i32.const 0))
                 (i32.eq (i32.load8_u (i32.sub (i32.add (local.get $h) (local.get $n)) (i32.const 1))) (i32.const 46)))
      (then (local.set $n (i32.sub (local.get $n) (i32.const 1)))))
    (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 253))) (then (return (i32.const 3072))))
    (local.set $low (call $reserve (local.get $n)))
    (block $lowered
      (loop $next
        (br_if $lowered (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $low) (local.get $i)) (call $lower (i32.load8_u (i32.add (local.get $h) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $res (call $reserve (i32.add (i32.shl (local.get $n) (i32.const 3)) (i32.const 16))))
    (local.set $i (i32.const 0))
    (loop $labels
      (if (i32.or (i32.eq (local.get $i) (local.get $n))
                  (i32.eq (i32.load8_u (i32.add (local.get $low) (local.get $i))) (i32.const 46)))
        (then
          (local.set $l (i32.add (local.get $low) (local.get $start)))
          (local.set $ln (i32.sub (local.get $i) (local.get $start)))
          (local.set $ascii (i32.const 1))
          (local.set $k (i32.const 0))
          (block $checked
            (loop $byte
              (br_if $checked (i32.ge_u (local.get $k) (local.get $ln)))
              (if (i32.ge_u (i32.load8_u (i32.add (local.get $l) (local.get $k))) (i32.const 0x80))
                (then (local.set $ascii (i32.const 0))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $byte)))
          (if (i32.eqz (local.get $ascii))
            (then
              (local.set $c (call $reserve (i32.add (i32.shl (local.get $ln) (i32.const 3)) (i32.const 8))))
              (drop (call $put_const (local.get $c) (i32.const 4512)))
              (local.set $ln (i32.add (i32.const 4) (call $punycode (local.get $l) (local.get $ln) (i32.add (local.get $c) (i32.const 4)))))
              (local.set $l (local.get $c))))
          (if (i32.or (i32.eqz (local.get $ln)) (i32.gt_u (local.get $ln) (i32.const 63))) (then (return (i32.const 3168))))
          (local.set $k (i32.const 0))
          (block $valid
            (loop $char
              (br_if $valid (i32.ge_u (local.get $k) (local.get $ln)))
              (local.set $c (i32.load8_u (i32.add (local.get $l) (local.get $k))))
              (if (i32.eqz (i32.or (i32.or (call $is_lower (local.get $c)) (call $is_digit (local.get $c)))
                                   (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 95)))))
                (then (return (i32.const 3264))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $char)))
          (if (local.get $rn)
            (then
              (i32.store8 (i32.add (local.get $res) (local.get $rn)) (i32.const 46))
              (local.set $rn (i32.add (local.get $rn) (i32.const 1)))))
          (memory.copy (i32.add (local.get $res) (local.get $rn)) (local.get $l) (local.get $ln))
          (local.set $rn (i32.add (local.get $rn) (local.get $ln)))
          (local.set $start (i32.add (local.get $i) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $labels (i32.le_u (local.get $i) (local.get $n))))
    (global.set $host (local.get $res))
    (global.set $host_len (local.get $rn))
    (i32.const 0))

  ;; ================= URIs =================

  ;; valid_scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
  (func $valid_scheme (param $s i32) (param $n i32) (result i32)
    (local $i i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $s) (local.get $i))))
        (if (i32.eqz (i32.or (call $is_lower (i32.or (local.get $c) (i32.const 32)))
                             (i32.and (i32.ne (local.get $i) (i32.const 0))
                                      (i32.or (call $is_digit (local.get $c))
                                              (i32.or (i32.eq (local.get $c) (i32.const 43))
                                                      (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 46))))))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.ne (local.get $n) (i32.const 0)))

  ;; valid_port: empty, or a number up to 65535.
  (func $valid_port (param $s i32) (param $n i32) (result i32)
    (local $i i32) (local $c i32) (local $v i32)
    (if (i32.gt_u (local.get $n) (i32.const 5)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $s) (local.get $i))))
        (if (i32.eqz (call $is_digit (local.get $c))) (then (return (i32.const 0))))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.le_u (local.get $v) (i32.const 65535)))

  ;; uri_host puts the canonical host of an absolute URI into
  ;; $host/$host_len (length 0 for a URI without an authority) and returns
  ;; 0, or returns why the URI is not acceptable (with $msg2 for "has an
  ;; invalid host: ..."). The authority is read strictly.
  (func $uri_host (param $u i32) (param $n i32) (result i32)
    (local $i i32) (local $c i32) (local $colon i32) (local $web i32) (local $a i32) (local $an i32)
    (local $h i32) (local $hn i32) (local $port i32) (local $pn i32) (local $e i32) (local $m i32)
    (global.set $host_len (i32.const 0))
    (block $clean
      (loop $next
        (br_if $clean (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $u) (local.get $i))))
        (if (i32.or (i32.le_u (local.get $c) (i32.const 32))
                    (i32.or (i32.eq (local.get $c) (i32.const 127)) (i32.eq (local.get $c) (i32.const 92))))
          (then (return (i32.const 2112))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $colon (call $index (local.get $u) (local.get $n) (i32.const 58)))
    (if (i32.le_s (local.get $colon) (i32.const 0)) (then (return (i32.const 2208))))
    (if (i32.eqz (call $valid_scheme (local.get $u) (local.get $colon))) (then (return (i32.const 2208))))
    (local.set $web (i32.or (call $eq_fold_const (local.get $u) (local.get $colon) (i32.const 1248))
                            (call $eq_fold_const (local.get $u) (local.get $colon) (i32.const 1344))))
    (local.set $a (i32.add (i32.add (local.get $u) (local.get $colon)) (i32.const 1)))
    (local.set $an (i32.sub (i32.sub (local.get $n) (local.get $colon)) (i32.const 1)))
    (if (i32.eqz (i32.and (i32.ge_u (local.get $an) (i32.const 2))
                          (i32.eq (i32.load16_u (local.get $a)) (i32.const 0x2f2f)))) ;; "//"
      (then (return (select (i32.const 2304) (i32.const 0) (local.get $web)))))
    (local.set $a (i32.add (local.get $a) (i32.const 2)))
    (local.set $an (i32.sub (local.get $an) (i32.const 2)))
    ;; the authority ends at the first '/', '?' or '#'
    (local.set $i (i32.const 0))
    (block $cut
      (loop $next
        (br_if $cut (i32.ge_u (local.get $i) (local.get $an)))
        (local.set $c (i32.load8_u (i32.add (local.get $a) (local.get $i))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 47)) (i32.or (i32.eq (local.get $c) (i32.const 63)) (i32.eq (local.get $c) (i32.const 35))))
          (then (local.set $an (local.get $i)) (br $cut)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.ge_s (call $index (local.get $a) (local.get $an) (i32.const 64)) (i32.const 0)) (then (return (i32.const 2400))))
    (if (i32.and (i32.gt_u (local.get $an) (i32.const 0)) (i32.eq (i32.load8_u (local.get $a)) (i32.const 91)))
      (then
        (local.set $e (call $index (local.get $a) (local.get $an) (i32.const 93)))
        (if (i32.lt_s (local.get $e) (i32.const 0)) (then (return (i32.const 2496))))
        (local.set $h (i32.add (local.get $a) (i32.const 1)))
        (local.set $hn (i32.sub (local.get $e) (i32.const 1)))
        (local.set $port (i32.add (i32.add (local.get $a) (local.get $e)) (i32.const 1)))
        (local.set $pn (i32.sub (i32.sub (local.get $an) (local.get $e)) (i32.const 1)))
        (if (i32.and (i32.gt_u (local.get $pn) (i32.const 0)) (i32.ne (i32.load8_u (local.get $port)) (i32.const 58)))
          (then (return (i32.const 2496))))
        (if (i32.eqz (call $parse_addr (local.get $h) (local.get $hn))) (then (return (i32.const 2592))))
        (if (i32.or (i32.eqz (global.get $ip_v6)) (global.get $ip_zone)) (then (return (i32.const 2592)))))
      (else
        (local.set $e (call $last_index (local.get $a) (local.get $an) (i32.const 58)))
        (local.set $h (local.get $a))
        (local.set $hn (local.get $an))
        (local.set $pn (i32.const 0))
        (if (i32.ge_s (local.get $e) (i32.const 0))
          (then
            (local.set $hn (local.get $e))
            (local.set $port (i32.add (local.get $a) (local.get $e)))
            (local.set $pn (i32.sub (local.get $an) (local.get $e)))))
        ;; an IPv6 address must be in brackets
        (if (i32.ge_s (call $index (local.get $h) (local.get $hn) (i32.const 58)) (i32.const 0)) (then (return (i32.const 2496))))))
    (if (i32.and (i32.gt_u (local.get $pn) (i32.const 0)) (i32.eq (i32.load8_u (local.get $port)) (i32.const 58)))
      (then
        (local.set $port (i32.add (local.get $port) (i32.const 1)))
        (local.set $pn (i32.sub (local.get $pn) (i32.const 1)))))
    (if (i32.eqz (call $valid_port (local.get $port) (local.get $pn))) (then (return (i32.const 2688))))
    (if (i32.eqz (local.get $hn)) (then (return (select (i32.const 2304) (i32.const 0) (local.get $web)))))
    (local.set $m (call $canonical_host (local.get $h) (local.get $hn)))
    (if (local.get $m) (then (global.set $msg2 (local.get $m)) (return (i32.const 2784))))
    (i32.const 0))

  ;; ================= configuration =================

  ;; matches reports whether the canonical host ($host) is trusted by the
  ;; pattern at entry e of the table.
  (func $matches (param $e i32) (result i32)
    (local $p i32) (local $pn i32)
    (local.set $p (i32.load (local.get $e)))
    (local.set $pn (i32.load offset=4 (local.get $e)))
    (if (i32.eqz (i32.load offset=8 (local.get $e)))
      (then (return (call $eq (global.get $host) (global.get $host_len) (local.get $p) (local.get $pn)))))
    (i32.and (i32.gt_u (global.get $host_len) (i32.add (local.get $pn) (i32.const 1)))
      (i32.and (call $eq (i32.sub (i32.add (global.get $host) (global.get $host_len)) (local.get $pn)) (local.get $pn)
                         (local.get $p) (local.get $pn))
               (i32.eq (i32.load8_u (i32.sub (i32.sub (i32.add (global.get $host) (global.get $host_len)) (local.get $pn)) (i32.const 1)))
                       (i32.const 46)))))

  ;; cfg_copy copies n bytes into the configuration's string space.
  (func $cfg_copy (param $p i32) (param $n i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $cfg_next))
    (if (i32.gt_u (i32.add (local.get $at) (local.get $n)) (global.get $CFG_STRINGS_END))
      (then (call $fail (i32.const 4416))))
    (memory.copy (local.get $at) (local.get $p) (local.get $n))
    (global.set $cfg_next (i32.add (local.get $at) (local.get $n)))
    (local.get $at))

  ;; add_pattern reads a configured host (s, n): a DNS name, an IP address,
  ;; or "*." and a DNS name of at least two labels.
  (func $add_pattern (param $s i32) (param $n i32)
    (local $wild i32) (local $e i32) (local $count i32)
    (local.set $wild (i32.and (i32.ge_u (local.get $n) (i32.const 2))
                              (i32.eq (i32.load16_u (local.get $s)) (i32.const 0x2e2a)))) ;; "*."
    (if (local.get $wild)
      (then (local.set $s (i32.add (local.get $s) (i32.const 2))) (local.set $n (i32.sub (local.get $n) (i32.const 2)))))
    (if (i32.ge_s (call $index (local.get $s) (local.get $n) (i32.const 42)) (i32.const 0)) (then (call $fail (i32.const 3936))))
    (if (i32.and (i32.gt_u (local.get $n) (i32.const 0))
                 (i32.eq (i32.load8_u (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 1))) (i32.const 93)))
      (then (local.set $n (i32.sub (local.get $n) (i32.const 1)))))
    (if (i32.and (i32.gt_u (local.get $n) (i32.const 0)) (i32.eq (i32.load8_u (local.get $s)) (i32.const 91)))
      (then (local.set $s (i32.add (local.get $s) (i32.const 1))) (local.set $n (i32.sub (local.get $n) (i32.const 1)))))
    (if (call $canonical_host (local.get $s) (local.get $n)) (then (call $fail (i32.const 3936))))
    (if (local.get $wild)
      (then
        (if (call $parse_addr (global.get $host) (global.get $host_len)) (then (call $fail (i32.const 3936))))
        (if (i32.lt_s (call $index (global.get $host) (global.get $host_len) (i32.const 46)) (i32.const 0))
          (then (call $fail (i32.const 3936))))))
    (local.set $count (i32.load (global.get $CFG_N)))
    (if (i32.ge_u (local.get $count) (global.get $CFG_MAX_PATTERNS)) (then (call $fail (i32.const 4416))))
    (local.set $e (i32.add (global.get $CFG_PATTERNS) (i32.mul (local.get $count) (i32.const 12))))
    (i32.store (local.get $e) (call $cfg_copy (global.get $host) (global.get $host_len)))
    (i32.store offset=4 (local.get $e) (global.get $host_len))
    (i32.store offset=8 (local.get $e) (local.get $wild))
    (i32.store (global.get $CFG_N) (i32.add (local.get $count) (i32.const 1))))

  ;; load_config parses the configuration (the raw JSON at p, n bytes) into
  ;; the cache, unless it is the cached one. A bad configuration is the
  ;; operator's mistake, not the client's: it fails the call.
  (func $load_config (param $raw i32) (param $n i32)
    (local $p i32) (local $v i32) (local $first i32) (local $hosts i32) (local $s i32) (local $e i32)
    (local.set $p (local.get $raw))
    (if (i32.eqz (local.get $n)) (then (call $fail (i32.const 3648))))
    (if (i32.and (i32.eq (i32.load (global.get $CFG_RAW_LEN)) (local.get $n))
                 (call $eq (global.get $CFG_RAW) (local.get $n) (local.get $p) (local.get $n)))
      (then (return)))
    (if (i32.gt_u (local.get $n) (global.get $CFG_RAW_MAX)) (then (call $fail (i32.const 4416))))
    (i32.store (global.get $CFG_RAW_LEN) (i32.const 0))
    (i32.store (global.get $CFG_N) (i32.const 0))
    (i32.store (global.get $CFG_PRIVATE) (i32.const 0))
    (i32.store (global.get $CFG_NAME_LEN) (i32.const 0))
    (global.set $cfg_next (global.get $CFG_STRINGS))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 123)) (then (call $fail (i32.const 3744))))
    (local.set $first (i32.const 1))
    (block $done
      (loop $next
        (local.set $v (call $member (local.get $p) (local.get $first)))
        (br_if $done (i32.eqz (local.get $v)))
        (local.set $first (i32.const 0))
        (if (call $eq_const (global.get $key) (global.get $key_len) (i32.const 192)) ;; hosts
          (then (local.set $hosts (local.get $v))))
        (if (i32.and (call $eq_const (global.get $key) (global.get $key_len) (i32.const 288)) ;; default_client_name
                     (i32.eqz (call $is_null (local.get $v))))
          (then
            (if (i32.ne (call $peek (local.get $v)) (i32.const 34)) (then (call $fail (i32.const 4128))))
            (local.set $e (call $str_end (local.get $v)))
            (i32.store (global.get $CFG_NAME_LEN) (i32.sub (local.get $e) (local.get $v)))
            (i32.store (global.get $CFG_NAME_PTR) (call $cfg_copy (local.get $v) (i32.sub (local.get $e) (local.get $v))))))
        (if (i32.and (call $eq_const (global.get $key) (global.get $key_len) (i32.const 384)) ;; allow_private_use_schemes
                     (i32.eqz (call $is_null (local.get $v))))
          (then
            (local.set $e (call $skip (local.get $v)))
            (if (call $eq_const (local.get $v) (i32.sub (local.get $e) (local.get $v)) (i32.const 960))
              (then (i32.store (global.get $CFG_PRIVATE) (i32.const 1)))
              (else
                (if (i32.eqz (call $eq_const (local.get $v) (i32.sub (local.get $e) (local.get $v)) (i32.const 1056)))
                  (then (call $fail (i32.const 4224))))))))
        (local.set $p (call $skip (local.get $v)))
        (br $next)))
    ;; hosts: a non-empty array of strings
    (if (i32.or (i32.eqz (local.get $hosts)) (i32.eqz (call $string_array (local.get $hosts))))
      (then (call $fail (i32.const 3840))))
    (local.set $p (call $ws (i32.add (local.get $hosts) (i32.const 1))))
    (if (i32.eq (call $peek (local.get $p)) (i32.const 93)) (then (call $fail (i32.const 3840))))
    (loop $host
      (local.set $s (call $decode (local.get $p)))
      (call $add_pattern (local.get $s) (global.get $key_len))
      (local.set $p (call $ws (global.get $after)))
      (if (i32.eq (call $peek (local.get $p)) (i32.const 44))
        (then (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)))) (br $host))))
    (memory.copy (global.get $CFG_RAW) (local.get $raw) (local.get $n))
    (i32.store (global.get $CFG_RAW_LEN) (local.get $n)))

  ;; ================= the policy hook =================

  ;; The output is built at $out; emit appends.
  (func $emit (param $p i32) (param $n i32)
    (memory.copy (i32.add (global.get $out) (global.get $olen)) (local.get $p) (local.get $n))
    (global.set $olen (i32.add (global.get $olen) (local.get $n))))

  (func $emit_const (param $k i32)
    (call $emit (i32.add (local.get $k) (i32.const 1)) (call $clen (local.get $k))))

  (func $emit_byte (param $c i32)
    (i32.store8 (i32.add (global.get $out) (global.get $olen)) (local.get $c))
    (global.set $olen (i32.add (global.get $olen) (i32.const 1))))

  ;; judge returns why the URI (u, n) is not acceptable, or 0.
  (func $judge (param $u i32) (param $n i32) (param $redirect i32) (result i32)
    (local $m i32) (local $i i32) (local $count i32)
    (local.set $m (call $uri_host (local.get $u) (local.get $n)))
    (if (local.get $m) (then (return (local.get $m))))
    (if (i32.eqz (global.get $host_len))
      (then
        (if (i32.and (local.get $redirect) (i32.load (global.get $CFG_PRIVATE))) (then (return (i32.const 0))))
        (return (i32.const 2304))))
    (local.set $count (i32.load (global.get $CFG_N)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (if (call $matches (i32.add (global.get $CFG_PATTERNS) (i32.mul (local.get $i) (i32.const 12))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 2880))

  ;; reject writes the error document for a URI that judge refused:
  ;; "<name>: <quoted URI> <why>", made safe as the SDKs do (control
  ;; characters become spaces, at most 1,024 bytes), and returns the result.
  (func $reject (param $code i32) (param $name i32) (param $nn i32) (param $u i32) (param $un i32) (param $why i32) (result i64)
    (local $d i32) (local $dn i32) (local $i i32) (local $c i32) (local $cut i32) (local $s i32) (local $sn i32)
    (local.set $d (call $reserve (i32.add (i32.add (local.get $nn) (i32.shl (local.get $un) (i32.const 1))) (i32.const 512))))
    (memory.copy (local.get $d) (local.get $name) (local.get $nn))
    (local.set $dn (local.get $nn))
    (i32.store16 (i32.add (local.get $d) (local.get $dn)) (i32.const 0x203a)) ;; ": "
    (local.set $dn (i32.add (local.get $dn) (i32.const 2)))
    ;; the URI, cut to at most 200 bytes at a character boundary, quoted
    (local.set $cut (i32.const 0))
    (if (i32.gt_u (local.get $un) (i32.const 200))
      (then
        (local.set $un (i32.const 200))
        (block $boundary
          (loop $back
            (br_if $boundary (i32.ne (i32.and (i32.load8_u (i32.add (local.get $u) (local.get $un))) (i32.const 0xc0)) (i32.const 0x80)))
            (local.set $un (i32.sub (local.get $un) (i32.const 1)))
            (br $back)))
        (local.set $cut (i32.const 1))))
    (i32.store8 (i32.add (local.get $d) (local.get $dn)) (i32.const 34))
    (local.set $dn (i32.add (local.get $dn) (i32.const 1)))
    (local.set $i (i32.const 0))
    (block $quoted
      (loop $next
        (br_if $quoted (i32.ge_u (local.get $i) (local.get $un)))
        (local.set $c (i32.load8_u (i32.add (local.get $u) (local.get $i))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
          (then
            (i32.store8 (i32.add (local.get $d) (local.get $dn)) (i32.const 92))
            (local.set $dn (i32.add (local.get $dn) (i32.const 1)))))
        (i32.store8 (i32.add (local.get $d) (local.get $dn)) (local.get $c))
        (local.set $dn (i32.add (local.get $dn) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (local.get $cut)
      (then (local.set $dn (i32.add (local.get $dn) (call $put_const (i32.add (local.get $d) (local.get $dn)) (i32.const 4704))))))
    (i32.store16 (i32.add (local.get $d) (local.get $dn)) (i32.const 0x2022)) ;; '" '
    (local.set $dn (i32.add (local.get $dn) (i32.const 2)))
    (local.set $dn (i32.add (local.get $dn) (call $put_const (i32.add (local.get $d) (local.get $dn)) (local.get $why))))
    (if (i32.eq (local.get $why) (i32.const 2784))
      (then (local.set $dn (i32.add (local.get $dn) (call $put_const (i32.add (local.get $d) (local.get $dn)) (global.get $msg2))))))
    ;; made safe: control characters (C0, DEL, and C1 as UTF-8 C2 80..9F)
    ;; become spaces, into s
    (local.set $s (call $reserve (local.get $dn)))
    (local.set $i (i32.const 0))
    (block $safe
      (loop $next
        (br_if $safe (i32.ge_u (local.get $i) (local.get $dn)))
        (local.set $c (i32.load8_u (i32.add (local.get $d) (local.get $i))))
        (if (i32.and (i32.eq (local.get $c) (i32.const 0xc2))
                     (i32.lt_u (i32.load8_u offset=1 (i32.add (local.get $d) (local.get $i))) (i32.const 0xa0)))
          (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (local.set $c (i32.const 32))))
        (if (i32.or (i32.lt_u (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 127)))
          (then (local.set $c (i32.const 32))))
        (i32.store8 (i32.add (local.get $s) (local.get $sn)) (local.get $c))
        (local.set $sn (i32.add (local.get $sn) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.gt_u (local.get $sn) (i32.const 1024))
      (then
        (local.set $sn (i32.const 1024))
        (block $boundary
          (loop $back
            (br_if $boundary (i32.ne (i32.and (i32.load8_u (i32.add (local.get $s) (local.get $sn))) (i32.const 0xc0)) (i32.const 0x80)))
            (local.set $sn (i32.sub (local.get $sn) (i32.const 1)))
            (br $back)))))
    ;; {"error":"<code>","error_description":"<s, with " and \ escaped>"}
    (global.set $out (call $reserve (i32.add (i32.shl (local.get $sn) (i32.const 1)) (i32.const 96))))
    (global.set $olen (i32.const 0))
    (call $emit_const (i32.const 1632))
    (call $emit_const (local.get $code))
    (call $emit_const (i32.const 1728))
    (local.set $i (i32.const 0))
    (block $escaped
      (loop $next
        (br_if $escaped (i32.ge_u (local.get $i) (local.get $sn)))
        (local.set $c (i32.load8_u (i32.add (local.get $s) (local.get $i))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
          (then (call $emit_byte (i32.const 92))))
        (call $emit_byte (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $emit_const (i32.const 1824))
    (call $result))

  ;; result packs $out and $olen for the host.
  (func $result (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (global.get $out)) (i64.const 32)) (i64.extend_i32_u (global.get $olen))))

  ;; check_uris judges every URI of an array member (its value at v, or 0
  ;; if absent); a member of another type than an array of strings is
  ;; rejected with invalid_client_metadata. It returns 0, or the result of
  ;; a rejection.
  (func $check_uris (param $v i32) (param $name i32) (param $code i32) (param $redirect i32) (result i64)
    (local $p i32) (local $s i32) (local $why i32)
    (if (i32.or (i32.eqz (local.get $v)) (call $is_null (local.get $v))) (then (return (i64.const 0))))
    (if (i32.eqz (call $string_array (local.get $v)))
      (then (return (call $type_error (local.get $name) (i32.const 3360)))))
    (local.set $p (call $ws (i32.add (local.get $v) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ne (call $peek (local.get $p)) (i32.const 34)))
        (local.set $s (call $decode (local.get $p)))
        (local.set $p (call $ws (global.get $after)))
        (local.set $why (call $judge (local.get $s) (global.get $key_len) (local.get $redirect)))
        (if (local.get $why)
          (then
            (return (call $reject (local.get $code) (i32.add (local.get $name) (i32.const 1)) (call $clen (local.get $name))
                                  (local.get $s) (global.get $key_len) (local.get $why)))))
        (if (i32.eq (call $peek (local.get $p)) (i32.const 44))
          (then (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1))))))
        (br $next)))
    (i64.const 0))

  ;; type_error writes {"error":"invalid_client_metadata","error_description":"<name><want>"}.
  (func $type_error (param $name i32) (param $want i32) (result i64)
    (global.set $out (call $reserve (i32.const 256)))
    (global.set $olen (i32.const 0))
    (call $emit_const (i32.const 1632))
    (call $emit_const (i32.const 2016))
    (call $emit_const (i32.const 1728))
    (call $emit_const (local.get $name))
    (call $emit_const (local.get $want))
    (call $emit_const (i32.const 1824))
    (call $result))

  (func (export "registrar_policy") (param $ptr i32) (param $len i32) (result i64)
    (local $p i32) (local $v i32) (local $first i32) (local $config i32) (local $config_end i32) (local $md i32)
    (local $redirects i32) (local $logouts i32) (local $name i32) (local $name_end i32) (local $members i32)
    (local $uris i32) (local $n_uris i32) (local $e i32) (local $s i32) (local $why i32) (local $res i64)
    (local $md_end i32) (local $dn i32)
    (global.set $end (i32.add (local.get $ptr) (local.get $len)))
    (global.set $heap (global.get $end))
    ;; the input's config and metadata
    (local.set $p (local.get $ptr))
    (local.set $first (i32.const 1))
    (block $done
      (loop $next
        (local.set $v (call $member (local.get $p) (local.get $first)))
        (br_if $done (i32.eqz (local.get $v)))
        (local.set $first (i32.const 0))
        (local.set $p (call $skip (local.get $v)))
        (if (i32.eqz (call $is_null (local.get $v)))
          (then
            (if (i32.and (i32.eqz (local.get $config)) (call $eq_const (global.get $key) (global.get $key_len) (i32.const 0)))
              (then (local.set $config (local.get $v)) (local.set $config_end (local.get $p))))
            (if (i32.and (i32.eqz (local.get $md)) (call $eq_const (global.get $key) (global.get $key_len) (i32.const 96)))
              (then (local.set $md (local.get $v)) (local.set $md_end (local.get $p))))))
        (br $next)))
    (call $load_config (local.get $config) (i32.sub (local.get $config_end) (local.get $config)))
    (if (i32.and (i32.ne (local.get $md) (i32.const 0)) (i32.ne (call $peek (local.get $md)) (i32.const 123)))
      (then (call $fail (i32.const 4320))))
    ;; the metadata's members: redirect_uris, post_logout_redirect_uris and
    ;; client_name (the first of each name), and every client_uri or
    ;; client_uri#<tag> in order, as (name, name length, value) triples
    (if (local.get $md)
      (then
        (local.set $uris (call $reserve (i32.mul (i32.sub (local.get $md_end) (local.get $md)) (i32.const 2))))
        (local.set $p (local.get $md))
        (local.set $first (i32.const 1))
        (block $done
          (loop $next
            (local.set $v (call $member (local.get $p) (local.get $first)))
            (br_if $done (i32.eqz (local.get $v)))
            (local.set $first (i32.const 0))
            (local.set $members (i32.add (local.get $members) (i32.const 1)))
            (local.set $p (call $skip (local.get $v)))
            (if (i32.and (i32.eqz (local.get $redirects)) (call $eq_const (global.get $key) (global.get $key_len) (i32.const 480)))
              (then (local.set $redirects (local.get $v))))
            (if (i32.and (i32.eqz (local.get $logouts)) (call $eq_const (global.get $key) (global.get $key_len) (i32.const 576)))
              (then (local.set $logouts (local.get $v))))
            (if (i32.and (i32.eqz (local.get $name)) (call $eq_const (global.get $key) (global.get $key_len) (i32.const 864)))
              (then (local.set $name (local.get $v)) (local.set $name_end (local.get $p))))
            (if (i32.or (call $eq_const (global.get $key) (global.get $key_len) (i32.const 672))
                        (i32.and (i32.gt_u (global.get $key_len) (i32.const 11))
                                 (call $eq_const (global.get $key) (i32.const 11) (i32.const 768))))
              (then
                (local.set $e (i32.add (local.get $uris) (i32.mul (local.get $n_uris) (i32.const 12))))
                (i32.store (local.get $e) (global.get $key))
                (i32.store offset=4 (local.get $e) (global.get $key_len))
                (i32.store offset=8 (local.get $e) (local.get $v))
                (local.set $n_uris (i32.add (local.get $n_uris) (i32.const 1)))))
            (br $next)))))
    (local.set $res (call $check_uris (local.get $redirects) (i32.const 480) (i32.const 1920) (i32.const 1)))
    (if (i64.ne (local.get $res) (i64.const 0)) (then (return (local.get $res))))
    (local.set $res (call $check_uris (local.get $logouts) (i32.const 576) (i32.const 2016) (i32.const 0)))
    (if (i64.ne (local.get $res) (i64.const 0)) (then (return (local.get $res))))
    ;; client_uri and its language-tagged forms (RFC 7591 §2.2)
    (local.set $e (local.get $uris))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n_uris)))
        (local.set $v (i32.load offset=8 (local.get $e)))
        (if (i32.eqz (call $is_null (local.get $v)))
          (then
            (if (i32.ne (call $peek (local.get $v)) (i32.const 34))
              (then
                ;; "<name> must be a string", the name as decoded
                (global.set $out (call $reserve (i32.add (i32.shl (i32.load offset=4 (local.get $e)) (i32.const 1)) (i32.const 128))))
                (global.set $olen (i32.const 0))
                (call $emit_const (i32.const 1632))
                (call $emit_const (i32.const 2016))
                (call $emit_const (i32.const 1728))
                (call $emit_escaped (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)))
                (call $emit_const (i32.const 3456))
                (call $emit_const (i32.const 1824))
                (return (call $result))))
            (local.set $s (call $decode (local.get $v)))
            (if (global.get $key_len)
              (then
                (local.set $dn (global.get $key_len))
                (local.set $why (call $judge (local.get $s) (local.get $dn) (i32.const 0)))
                (if (local.get $why)
                  (then
                    (return (call $reject (i32.const 2016) (i32.load (local.get $e)) (i32.load offset=4 (local.get $e))
                                          (local.get $s) (local.get $dn) (local.get $why)))))))))
        (local.set $e (i32.add (local.get $e) (i32.const 12)))
        (local.set $n_uris (i32.sub (local.get $n_uris) (i32.const 1)))
        (br $next)))
    ;; accept: {"metadata":<the metadata, with the default client_name if it has none>}
    (global.set $out (call $reserve (i32.add (i32.add (i32.sub (local.get $md_end) (local.get $md)) (i32.load (global.get $CFG_NAME_LEN))) (i32.const 64))))
    (global.set $olen (i32.const 0))
    (call $emit_const (i32.const 1440))
    (block $written
      ;; no default name (none, or ""), or a client_name already: as it is
      (if (i32.or (i32.le_u (i32.load (global.get $CFG_NAME_LEN)) (i32.const 2))
                  (i32.and (i32.ne (local.get $name) (i32.const 0)) (i32.eqz (call $is_null (local.get $name)))))
        (then (call $copy_metadata (local.get $md) (local.get $md_end)) (br $written)))
      ;; "client_name":null: the default in its place
      (if (local.get $name)
        (then
          (call $emit (local.get $md) (i32.sub (local.get $name) (local.get $md)))
          (call $emit (i32.load (global.get $CFG_NAME_PTR)) (i32.load (global.get $CFG_NAME_LEN)))
          (call $emit (local.get $name_end) (i32.sub (local.get $md_end) (local.get $name_end)))
          (br $written)))
      ;; no client_name: the default at the end
      (if (local.get $md)
        (then
          (call $emit (local.get $md) (i32.sub (call $last_brace (local.get $md) (local.get $md_end)) (local.get $md)))
          (if (local.get $members) (then (call $emit_byte (i32.const 44)))))
        (else (call $emit_byte (i32.const 123))))
      (call $emit_const (i32.const 1536))
      (call $emit (i32.load (global.get $CFG_NAME_PTR)) (i32.load (global.get $CFG_NAME_LEN)))
      (call $emit_byte (i32.const 125)))
    (call $emit_byte (i32.const 125))
    (call $result))

  ;; copy_metadata copies the metadata as it is ({} if there is none).
  (func $copy_metadata (param $md i32) (param $end i32)
    (if (local.get $md)
      (then (call $emit (local.get $md) (i32.sub (local.get $end) (local.get $md))))
      (else (call $emit_byte (i32.const 123)) (call $emit_byte (i32.const 125)))))

  ;; last_brace returns the position of the '}' that ends the object
  ;; [md, end), which may be followed by white space.
  (func $last_brace (param $md i32) (param $end i32) (result i32)
    (loop $back
      (local.set $end (i32.sub (local.get $end) (i32.const 1)))
      (br_if $back (i32.ne (i32.load8_u (local.get $end)) (i32.const 125))))
    (local.get $end))

  ;; emit_escaped appends a decoded string as the inside of a JSON string:
  ;; quotes and backslashes escaped, control characters as spaces (it goes
  ;; into an error_description).
  (func $emit_escaped (param $p i32) (param $n i32)
    (local $i i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
          (then (call $emit_byte (i32.const 92))))
        (if (i32.or (i32.lt_u (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 127)))
          (then (local.set $c (i32.const 32))))
        (call $emit_byte (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
)
