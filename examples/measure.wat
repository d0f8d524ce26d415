;; A component that imports another component, which the host provides when it instantiates
;; this one. It instantiates the library and calls its `units` through a fused adapter, which
;; transcodes the UTF-8 string to the library's UTF-16:
;;   weld run --component units=examples/units.wat --invoke 'measure("héllo ☃")' examples/measure.wat
;; prints (10, 7): UTF-8 bytes, UTF-16 code units.
(component
  (import "units" (component $Units
    (export "units" (func (param "s" string) (result u32)))))
  (instance $units (instantiate $Units))
  (core module $libc
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $libc (instantiate $libc))
  (core func $units (canon lower (func $units "units") (memory (core memory $libc "mem"))))
  (core module $main
    (import "libc" "mem" (memory 1))
    (import "lib" "units" (func $units (param i32 i32) (result i32)))
    ;; measure(s) -> (UTF-8 bytes, UTF-16 code units), returned through memory at 16.
    (func (export "measure") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 16) (local.get $len))
      (i32.store (i32.const 20) (call $units (local.get $ptr) (local.get $len)))
      (i32.const 16)))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "lib" (instance (export "units" (func $units))))))
  (func (export "measure") (param "s" string) (result (tuple u32 u32))
    (canon lift (core func $main "measure") (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc")))))
