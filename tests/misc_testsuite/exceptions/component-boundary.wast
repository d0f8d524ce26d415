;; An exception that leaves a component traps at the boundary (the canonical ABI's
;; call_and_trap_on_throw), whether the caller is the host or another component whose
;; handler would catch everything.

(component
  (core module $M
    (tag $e (param i32))
    (func (export "throw") (param i32) (result i32)
      (throw $e (local.get 0)))
    (func (export "catch-inside") (param i32) (result i32)
      (block $h (result i32)
        (try_table (result i32) (catch $e $h) (call 0 (local.get 0)))
        (return))
      (i32.add (i32.const 100))))
  (core instance $m (instantiate $M))
  (func (export "throw") (param "x" u32) (result u32) (canon lift (core func $m "throw")))
  (func (export "catch-inside") (param "x" u32) (result u32) (canon lift (core func $m "catch-inside")))
)

;; Caught inside the component: an ordinary result.
(assert_return (invoke "catch-inside" (u32.const 5)) (u32.const 105))
;; Not caught: a trap at the lift, not an exception reaching the host.
(assert_trap (invoke "throw" (u32.const 5)) "uncaught wasm exception at a component boundary")

;; Through a fused adapter: the caller's catch_all must not see the callee's exception.
(component
  (component $Callee
    (core module $M
      (tag $e (param i32))
      (func (export "throw") (param i32) (result i32)
        (throw $e (local.get 0))))
    (core instance $m (instantiate $M))
    (func (export "throw") (param "x" u32) (result u32) (canon lift (core func $m "throw")))
  )
  (component $Caller
    (import "throw" (func $throw (param "x" u32) (result u32)))
    (core func $throw-lowered (canon lower (func $throw)))
    (core module $M
      (import "callee" "throw" (func $throw (param i32) (result i32)))
      (func (export "run") (param i32) (result i32)
        (block $h
          (try_table (catch_all $h) (return (call $throw (local.get 0)))))
        (i32.const -1)))
    (core instance $m (instantiate $M (with "callee" (instance (export "throw" (func $throw-lowered))))))
    (func (export "run") (param "x" u32) (result u32) (canon lift (core func $m "run")))
  )
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "throw" (func $callee "throw"))))
  (export "run" (func $caller "run"))
)

(assert_trap (invoke "run" (u32.const 7)) "uncaught wasm exception at a component boundary")
