;; Calls from the host into one component: parameters and results flat and through memory,
;; strings in each encoding, post-return, and the canonical ABI's traps on bad guest data.

;; A string echo in each encoding: the guest returns its (ptr, len) pair from memory.
(component
  (core module $m
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $size) (local.get $old_size)))
        (then (return (local.get $old))))
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $p) (local.get $size)))
      (memory.copy (local.get $p) (local.get $old) (local.get $old_size))
      (local.get $p))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    (func (export "len") (param i32 i32) (result i32) (local.get 1))
  )
  (core instance $i (instantiate $m))
  (func (export "echo8") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (func (export "echo16") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      string-encoding=utf16))
  (func (export "echo-latin1") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      string-encoding=latin1+utf16))
  ;; The code-unit count the guest sees: bytes in utf8, units in utf16.
  (func (export "units8") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (func (export "units16") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      string-encoding=utf16))
)
(assert_return (invoke "echo8" (str.const "hello")) (str.const "hello"))
(assert_return (invoke "echo8" (str.const "")) (str.const ""))
(assert_return (invoke "echo16" (str.const "h\u{e9}llo \u{1F980}")) (str.const "h\u{e9}llo \u{1F980}"))
(assert_return (invoke "echo-latin1" (str.const "caf\u{e9}")) (str.const "caf\u{e9}"))
(assert_return (invoke "echo-latin1" (str.const "\u{2713} check")) (str.const "\u{2713} check"))
(assert_return (invoke "units8" (str.const "\u{e9}")) (u32.const 2))
(assert_return (invoke "units16" (str.const "\u{1F980}")) (u32.const 2))

;; Results through memory: a record of four fields read from where the guest points.
(component
  (core module $m
    (memory (export "mem") 1)
    (data (i32.const 16) "\01\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00\ff\00\00\00\78\56\34\12")
    (func (export "get") (result i32) (i32.const 16))
    (func (export "unaligned") (result i32) (i32.const 17))
  )
  (core instance $i (instantiate $m))
  (type $r' (record (field "a" u64) (field "b" s64) (field "c" u8) (field "d" u32)))
  (export $r "r" (type $r'))
  (func (export "get") (result $r) (canon lift (core func $i "get") (memory (core memory $i "mem"))))
  (func (export "unaligned") (result $r) (canon lift (core func $i "unaligned") (memory (core memory $i "mem"))))
)
(assert_return (invoke "get")
  (record.const (field "a" u64.const 1) (field "b" s64.const 2) (field "c" u8.const 255)
    (field "d" u32.const 0x12345678)))
(assert_trap (invoke "unaligned") "unaligned pointer")

(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "oob") (result i32) (i32.const 65528)))
  (core instance $i (instantiate $m))
  (func (export "oob") (result (tuple u64 u64)) (canon lift (core func $i "oob") (memory (core memory $i "mem"))))
)
(assert_trap (invoke "oob") "out-of-bounds")

;; Narrow integers and bools are masked when lifted; chars are validated.
(component
  (core module $m
    (func (export "big") (result i32) (i32.const 0x1ff))
    (func (export "two") (result i32) (i32.const 2))
    (func (export "surrogate") (result i32) (i32.const 0xd800)))
  (core instance $i (instantiate $m))
  (func (export "u8") (result u8) (canon lift (core func $i "big")))
  (func (export "s8") (result s8) (canon lift (core func $i "big")))
  (func (export "bool") (result bool) (canon lift (core func $i "two")))
  (func (export "char") (result char) (canon lift (core func $i "surrogate")))
)
(assert_return (invoke "u8") (u8.const 255))
(assert_return (invoke "s8") (s8.const -1))
(assert_return (invoke "bool") (bool.const true))
(assert_trap (invoke "char") "invalid `char` bit pattern")
(component
  (core module $m (func (export "two") (result i32) (i32.const 2)))
  (core instance $i (instantiate $m))
  (type $e' (enum "a" "b"))
  (export $e "e" (type $e'))
  (func (export "enum") (result $e) (canon lift (core func $i "two")))
)
(assert_trap (invoke "enum") "invalid variant discriminant")
