;; Exception payloads of every value type (v128 and references included), handlers in loops
;; and nested scopes, exnrefs kept in globals and tables and thrown again.

(module
  (tag $all (param i32 i64 f32 f64 v128 funcref externref))
  (tag $n (param i32))
  (global $saved (mut exnref) (ref.null exn))
  (table $exns 2 exnref)

  (func $payload (export "payload") (param externref) (result i32 i64 f32 f64 v128 funcref externref)
    (block $h (result i32 i64 f32 f64 v128 funcref externref)
      (try_table (catch $all $h)
        (throw $all (i32.const 1) (i64.const -2) (f32.const 3.5) (f64.const -4.25)
          (v128.const i32x4 5 6 7 8) (ref.func $payload) (local.get 0)))
      (unreachable)))

  ;; A throw in every iteration, caught inside the loop: the sum of 1..n.
  (func (export "loop") (param $n i32) (result i32)
    (local $sum i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $n $h) (throw $n (local.get $n)))
        (unreachable))
      (local.set $sum (i32.add (local.get $sum)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))

  ;; The inner scope catches only $all; $n goes to the outer one.
  (func (export "nested") (param i32) (result i32)
    (block $outer (result i32)
      (try_table (catch $n $outer)
        (block $inner (result i32 i64 f32 f64 v128 funcref externref)
          (try_table (catch $all $inner) (throw $n (local.get 0)))
          (unreachable))
        (drop) (drop) (drop) (drop) (drop) (drop) (drop)
        (return (i32.const -1)))
      (unreachable))
    (i32.const 1000)
    (i32.add))

  ;; catch_ref into a global and a table, then throw_ref from each.
  (func (export "keep") (param i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $n $h) (throw $n (local.get 0)))
      (unreachable))
    (global.set $saved)
    (drop)
    (table.set $exns (i32.const 1) (global.get $saved)))
  (func (export "rethrow-global") (result i32)
    (block $h (result i32)
      (try_table (catch $n $h) (throw_ref (global.get $saved)))
      (unreachable)))
  (func (export "rethrow-table") (result i32)
    (block $h (result i32)
      (try_table (catch $n $h) (throw_ref (table.get $exns (i32.const 1))))
      (unreachable)))
  (func (export "rethrow-empty-slot")
    (throw_ref (table.get $exns (i32.const 0))))
)

(assert_return (invoke "payload" (ref.extern 9))
  (i32.const 1) (i64.const -2) (f32.const 3.5) (f64.const -4.25) (v128.const i32x4 5 6 7 8)
  (ref.func) (ref.extern 9))
(assert_return (invoke "loop" (i32.const 1000)) (i32.const 500500))
(assert_return (invoke "nested" (i32.const 7)) (i32.const 1007))
(assert_return (invoke "keep" (i32.const 42)))
(assert_return (invoke "rethrow-global") (i32.const 42))
(assert_return (invoke "rethrow-table") (i32.const 42))
(assert_trap (invoke "rethrow-empty-slot") "null reference")
