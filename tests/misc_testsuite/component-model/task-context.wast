;; The task context of `context.get`/`context.set`: every call's task starts with a context
;; of zeros, post-return runs in the callee's task, and the caller finds its own context
;; again when the call returns, across fused calls (two components of one) and calls from
;; the host.
(component
  (component $Callee
    (core func $get0 (canon context.get i32 0))
    (core func $set0 (canon context.set i32 0))
    (core func $get1 (canon context.get i32 1))
    (core func $set1 (canon context.set i32 1))
    (core module $M
      (import "" "get0" (func $get0 (result i32)))
      (import "" "set0" (func $set0 (param i32)))
      (import "" "get1" (func $get1 (result i32)))
      (import "" "set1" (func $set1 (param i32)))
      (global $seen-by-post-return (mut i32) (i32.const -1))
      ;; Returns what its task's context held at its start (both slots, 0 and 0 -> 0), then
      ;; writes its own.
      (func (export "touch") (result i32)
        (local $start i32)
        (local.set $start (i32.or (call $get0) (call $get1)))
        (call $set0 (i32.const 1000))
        (call $set1 (i32.const 2000))
        (local.get $start))
      (func (export "touch-post") (param i32)
        (global.set $seen-by-post-return (i32.add (call $get0) (call $get1)))
        (call $set0 (i32.const 7)))
      (func (export "seen-by-post-return") (result i32) (global.get $seen-by-post-return))
    )
    (core instance $m (instantiate $M (with "" (instance
      (export "get0" (func $get0)) (export "set0" (func $set0))
      (export "get1" (func $get1)) (export "set1" (func $set1))))))
    (func (export "touch") (result u32)
      (canon lift (core func $m "touch") (post-return (core func $m "touch-post"))))
    (func (export "seen-by-post-return") (result u32) (canon lift (core func $m "seen-by-post-return")))
  )
  (component $Caller
    (import "touch" (func $touch (result u32)))
    (core func $touch (canon lower (func $touch)))
    (core func $get0 (canon context.get i32 0))
    (core func $set0 (canon context.set i32 0))
    (core func $get1 (canon context.get i32 1))
    (core func $set1 (canon context.set i32 1))
    (core module $M
      (import "" "touch" (func $touch (result i32)))
      (import "" "get0" (func $get0 (result i32)))
      (import "" "set0" (func $set0 (param i32)))
      (import "" "get1" (func $get1 (result i32)))
      (import "" "set1" (func $set1 (param i32)))
      ;; Sets its context, calls the callee twice (which must start from zeros each time),
      ;; and returns its own context afterwards, packed: slot0 * 1000 + slot1, or 0 when the
      ;; callee did not start from zeros.
      (func (export "run") (result i32)
        (call $set0 (i32.const 42))
        (call $set1 (i32.const 5))
        (if (i32.ne (call $touch) (i32.const 0)) (then (return (i32.const 0))))
        (if (i32.ne (call $touch) (i32.const 0)) (then (return (i32.const 0))))
        (i32.add (i32.mul (call $get0) (i32.const 1000)) (call $get1)))
      (func (export "peek") (result i32) (i32.add (call $get0) (call $get1)))
    )
    (core instance $m (instantiate $M (with "" (instance
      (export "touch" (func $touch))
      (export "get0" (func $get0)) (export "set0" (func $set0))
      (export "get1" (func $get1)) (export "set1" (func $set1))))))
    (func (export "run") (result u32) (canon lift (core func $m "run")))
    (func (export "peek") (result u32) (canon lift (core func $m "peek")))
  )
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "touch" (func $callee "touch"))))
  (export "run" (func $caller "run"))
  (export "peek" (func $caller "peek"))
  (export "touch" (func $callee "touch"))
  (export "seen-by-post-return" (func $callee "seen-by-post-return"))
)
;; The caller's context survives two fused calls whose tasks wrote theirs.
(assert_return (invoke "run") (u32.const 42005))
;; Post-return saw the callee's task's context (1000 + 2000), not the caller's.
(assert_return (invoke "seen-by-post-return") (u32.const 3000))
;; A new call from the host starts a new task: nothing is left of earlier tasks.
(assert_return (invoke "peek") (u32.const 0))
(assert_return (invoke "touch") (u32.const 0))
(assert_return (invoke "touch") (u32.const 0))
(assert_return (invoke "peek") (u32.const 0))
