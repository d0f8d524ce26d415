;; A component whose functions take and return records, variants, enums and flags; the
;; example `examples/derive.rs` calls them with Rust types that derive their component types.
;;
;;   weld run --invoke 'area(rect({width: 2.0, height: 3.5}))' examples/shapes.wat   -> 7
;;   weld run --invoke 'classify(-4)' examples/shapes.wat                            -> negative
;;   weld run --invoke 'grant({read}, {write, execute})' examples/shapes.wat         -> {read, write, execute}
;;   weld run --invoke 'scale({width: 1.0, height: 2.0}, 3.0)' examples/shapes.wat   -> {width: 3, height: 6}
(component
  (core module $m
    (memory (export "memory") 1)

    ;; area(s: shape): the discriminant, then the payload joined over the cases: circle's
    ;; radius is in $a, rect's width and height in $a and $b.
    (func (export "area") (param $case i32) (param $a f64) (param $b f64) (result f64)
      (if (result f64) (i32.eq (local.get $case) (i32.const 0))
        (then (f64.mul (f64.const 3.141592653589793) (f64.mul (local.get $a) (local.get $a))))
        (else
          (if (result f64) (i32.eq (local.get $case) (i32.const 1))
            (then (f64.mul (local.get $a) (local.get $b)))
            (else (f64.const 0))))))

    ;; classify(n) -> sign: negative (0), zero (1) or positive (2).
    (func (export "classify") (param $n i32) (result i32)
      (i32.add (i32.gt_s (local.get $n) (i32.const 0)) (i32.ge_s (local.get $n) (i32.const 0))))

    ;; grant(p, extra) -> p | extra: flags are bits, `read` being bit 0.
    (func (export "grant") (param i32 i32) (result i32)
      (i32.or (local.get 0) (local.get 1)))

    ;; scale(s, k) -> size: a record of two f64 is returned through memory, as a pointer to
    ;; the record (here at address 16).
    (func (export "scale") (param $width f64) (param $height f64) (param $k f64) (result i32)
      (f64.store (i32.const 16) (f64.mul (local.get $width) (local.get $k)))
      (f64.store (i32.const 24) (f64.mul (local.get $height) (local.get $k)))
      (i32.const 16))
  )
  (core instance $i (instantiate $m))

  (type $size' (record (field "width" f64) (field "height" f64)))
  (export $size "size" (type $size'))
  (type $shape' (variant (case "circle" f64) (case "rect" $size) (case "point")))
  (export $shape "shape" (type $shape'))
  (type $sign' (enum "negative" "zero" "positive"))
  (export $sign "sign" (type $sign'))
  (type $permissions' (flags "read" "write" "execute"))
  (export $permissions "permissions" (type $permissions'))

  (func (export "area") (param "s" $shape) (result f64) (canon lift (core func $i "area")))
  (func (export "classify") (param "n" s32) (result $sign) (canon lift (core func $i "classify")))
  (func (export "grant") (param "p" $permissions) (param "extra" $permissions) (result $permissions)
    (canon lift (core func $i "grant")))
  (func (export "scale") (param "s" $size) (param "k" f64) (result $size)
    (canon lift (core func $i "scale") (memory (core memory $i "memory"))))
)
