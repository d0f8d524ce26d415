;; A library component: `units(s)` is the number of UTF-16 code units of `s` (it receives
;; strings in UTF-16). examples/measure.wat imports it; see there.
(component
  (core module $m
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "units") (param $ptr i32) (param $len i32) (result i32) (local.get $len)))
  (core instance $i (instantiate $m))
  (func (export "units") (param "s" string) (result u32)
    (canon lift (core func $i "units") (memory (core memory $i "mem"))
      (realloc (core func $i "realloc")) string-encoding=utf16)))
