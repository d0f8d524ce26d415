;; Fused calls between components (a `canon lower` of another component's `canon lift`) in
;; the shapes a component graph can take: a caller and a callee side by side, chains, nesting,
;; several callers of one callee, adapters that call adapters, adapters used while instances
;; are still being created (start functions) and callees instantiated after other fused calls
;; already exist (so their adapters land in later adapter modules).

;; Two components: D imports two functions from C.
(component
  (component $C
    (core module $M
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (export "sub") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1))))
    (core instance $m (instantiate $M))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $m "add")))
    (func (export "sub") (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $m "sub")))
  )
  (component $D
    (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
    (import "sub" (func $sub (param "a" s32) (param "b" s32) (result s32)))
    (core func $add' (canon lower (func $add)))
    (core func $sub' (canon lower (func $sub)))
    (core module $M
      (import "" "add" (func $add (param i32 i32) (result i32)))
      (import "" "sub" (func $sub (param i32 i32) (result i32)))
      ;; (a + b) * 1000 + (a - b)
      (func (export "run") (param i32 i32) (result i32)
        (i32.add
          (i32.mul (call $add (local.get 0) (local.get 1)) (i32.const 1000))
          (call $sub (local.get 0) (local.get 1)))))
    (core instance $m (instantiate $M (with "" (instance (export "add" (func $add')) (export "sub" (func $sub'))))))
    (func (export "run") (param "a" u32) (param "b" u32) (result s32) (canon lift (core func $m "run")))
  )
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "add" (func $c "add")) (with "sub" (func $c "sub"))))
  (func (export "run") (alias export $d "run"))
)
(assert_return (invoke "run" (u32.const 30) (u32.const 12)) (s32.const 42018))
(assert_return (invoke "run" (u32.const 5) (u32.const 7)) (s32.const 11998))
(assert_return (invoke "run" (u32.const 0) (u32.const 0)) (s32.const 0))

;; A chain: A calls B, which calls C. B also re-exports C's `mul` as a lift of its own lowered
;; import (an adapter whose callee is another adapter), and counts its calls.
(component
  (component $C
    (core module $M
      (global $calls (mut i32) (i32.const 0))
      (func (export "mul") (param i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.mul (local.get 0) (local.get 1)))
      (func (export "calls") (result i32) (global.get $calls)))
    (core instance $m (instantiate $M))
    (func (export "mul") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $m "mul")))
    (func (export "calls") (result u32) (canon lift (core func $m "calls")))
  )
  (component $B
    (import "mul" (func $mul (param "a" u32) (param "b" u32) (result u32)))
    (core func $mul' (canon lower (func $mul)))
    (core module $M
      (import "" "mul" (func $mul (param i32 i32) (result i32)))
      ;; f(x) = x * (x + 1) + 3
      (func (export "f") (param i32) (result i32)
        (i32.add (call $mul (local.get 0) (i32.add (local.get 0) (i32.const 1))) (i32.const 3))))
    (core instance $m (instantiate $M (with "" (instance (export "mul" (func $mul'))))))
    (func (export "f") (param "x" u32) (result u32) (canon lift (core func $m "f")))
    (func (export "mul2") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $mul')))
  )
  (component $A
    (import "f" (func $f (param "x" u32) (result u32)))
    (import "mul2" (func $mul2 (param "a" u32) (param "b" u32) (result u32)))
    (core func $f' (canon lower (func $f)))
    (core func $mul2' (canon lower (func $mul2)))
    (core module $M
      (import "" "f" (func $f (param i32) (result i32)))
      (import "" "mul2" (func $mul2 (param i32 i32) (result i32)))
      ;; f(x) * 2 + f(x + 1)
      (func (export "run") (param i32) (result i32)
        (i32.add (i32.mul (call $f (local.get 0)) (i32.const 2)) (call $f (i32.add (local.get 0) (i32.const 1)))))
      ;; mul2(a, b) + 1
      (func (export "run2") (param i32 i32) (result i32)
        (i32.add (call $mul2 (local.get 0) (local.get 1)) (i32.const 1))))
    (core instance $m (instantiate $M (with "" (instance (export "f" (func $f')) (export "mul2" (func $mul2'))))))
    (func (export "run") (param "x" u32) (result u32) (canon lift (core func $m "run")))
    (func (export "run2") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $m "run2")))
  )
  (instance $c (instantiate $C))
  (instance $b (instantiate $B (with "mul" (func $c "mul"))))
  (instance $a (instantiate $A (with "f" (func $b "f")) (with "mul2" (func $b "mul2"))))
  (func (export "run") (alias export $a "run"))
  (func (export "run2") (alias export $a "run2"))
  (func (export "calls") (alias export $c "calls"))
  ;; The host calling B's re-export directly: host -> adapter -> C.
  (func (export "mul2") (alias export $b "mul2"))
)
;; f(3) = 15, f(4) = 23
(assert_return (invoke "run" (u32.const 3)) (u32.const 53))
(assert_return (invoke "calls") (u32.const 2))
;; f(10) = 113, f(11) = 135
(assert_return (invoke "run" (u32.const 10)) (u32.const 361))
(assert_return (invoke "run2" (u32.const 6) (u32.const 7)) (u32.const 43))
(assert_return (invoke "mul2" (u32.const 9) (u32.const 9)) (u32.const 81))
(assert_return (invoke "calls") (u32.const 6))

;; Nesting: W instantiates Inner and calls it, and re-exports Inner's function; D calls both;
;; the root component's own core code calls W too. Inner2 imports a function that W lifts
;; from its own core code and calls back into W while W is calling it (donut wrapping, which
;; the spec allows: W is Inner2's parent).
(component
  (component $W
    (component $Inner
      (core module $M (func (export "sq") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0))))
      (core instance $m (instantiate $M))
      (func (export "sq") (param "x" u32) (result u32) (canon lift (core func $m "sq")))
    )
    (component $Inner2
      (import "cb" (func $cb (param "x" u32) (result u32)))
      (core func $cb' (canon lower (func $cb)))
      (core module $M
        (import "" "cb" (func $cb (param i32) (result i32)))
        ;; cb(x) * 7
        (func (export "h") (param i32) (result i32) (i32.mul (call $cb (local.get 0)) (i32.const 7))))
      (core instance $m (instantiate $M (with "" (instance (export "cb" (func $cb'))))))
      (func (export "h") (param "x" u32) (result u32) (canon lift (core func $m "h")))
    )
    (instance $in (instantiate $Inner))
    (core func $sq (canon lower (func $in "sq")))
    (core module $M
      (import "" "sq" (func $sq (param i32) (result i32)))
      (func (export "g") (param i32) (result i32) (i32.add (call $sq (local.get 0)) (i32.const 100)))
      (func (export "cb") (param i32) (result i32) (i32.add (local.get 0) (i32.const 5))))
    (core instance $m (instantiate $M (with "" (instance (export "sq" (func $sq))))))
    (func $cb (param "x" u32) (result u32) (canon lift (core func $m "cb")))
    (instance $in2 (instantiate $Inner2 (with "cb" (func $cb))))
    (core func $h (canon lower (func $in2 "h")))
    (core module $N
      (import "" "h" (func $h (param i32) (result i32)))
      (func (export "donut") (param i32) (result i32) (i32.add (call $h (local.get 0)) (i32.const 1))))
    (core instance $n (instantiate $N (with "" (instance (export "h" (func $h))))))
    (func (export "g") (param "x" u32) (result u32) (canon lift (core func $m "g")))
    (func (export "donut") (param "x" u32) (result u32) (canon lift (core func $n "donut")))
    (export "sq" (func $in "sq"))
  )
  (instance $w (instantiate $W))
  (component $D
    (import "g" (func $g (param "x" u32) (result u32)))
    (import "sq" (func $sq (param "x" u32) (result u32)))
    (core func $g' (canon lower (func $g)))
    (core func $sq' (canon lower (func $sq)))
    (core module $M
      (import "" "g" (func $g (param i32) (result i32)))
      (import "" "sq" (func $sq (param i32) (result i32)))
      ;; g(x) * 1000 + sq(x + 1)
      (func (export "run") (param i32) (result i32)
        (i32.add (i32.mul (call $g (local.get 0)) (i32.const 1000)) (call $sq (i32.add (local.get 0) (i32.const 1))))))
    (core instance $m (instantiate $M (with "" (instance (export "g" (func $g')) (export "sq" (func $sq'))))))
    (func (export "run") (param "x" u32) (result u32) (canon lift (core func $m "run")))
  )
  (instance $d (instantiate $D (with "g" (func $w "g")) (with "sq" (func $w "sq"))))
  (core func $g (canon lower (func $w "g")))
  (core func $donut (canon lower (func $w "donut")))
  (core module $Root
    (import "" "g" (func $g (param i32) (result i32)))
    (import "" "donut" (func $donut (param i32) (result i32)))
    (func (export "root") (param i32) (result i32) (i32.sub (call $g (local.get 0)) (i32.const 1)))
    (func (export "donut") (param i32) (result i32) (call $donut (local.get 0))))
  (core instance $root (instantiate $Root (with "" (instance (export "g" (func $g)) (export "donut" (func $donut))))))
  (func (export "run") (alias export $d "run"))
  (func (export "root") (param "x" u32) (result u32) (canon lift (core func $root "root")))
  (func (export "donut") (param "x" u32) (result u32) (canon lift (core func $root "donut")))
  (func (export "w-donut") (alias export $w "donut"))
)
;; g(4) = 116, sq(5) = 25
(assert_return (invoke "run" (u32.const 4)) (u32.const 116025))
(assert_return (invoke "run" (u32.const 0)) (u32.const 100001))
(assert_return (invoke "root" (u32.const 9)) (u32.const 180))
;; (x + 5) * 7 + 1
(assert_return (invoke "donut" (u32.const 3)) (u32.const 57))
(assert_return (invoke "w-donut" (u32.const 10)) (u32.const 106))
;; Calls leave every flag as it was: the same calls work again.
(assert_return (invoke "donut" (u32.const 0)) (u32.const 36))
(assert_return (invoke "run" (u32.const 1)) (u32.const 101004))

;; Several callers of one callee, and one caller importing the same function twice: all
;; share the callee's state.
(component
  (component $C
    (core module $M
      (global $total (mut i32) (i32.const 0))
      (func (export "acc") (param i32) (result i32)
        (global.set $total (i32.add (global.get $total) (local.get 0)))
        (global.get $total))
      (func (export "total") (result i32) (global.get $total)))
    (core instance $m (instantiate $M))
    (func (export "acc") (param "x" u32) (result u32) (canon lift (core func $m "acc")))
    (func (export "total") (result u32) (canon lift (core func $m "total")))
  )
  (component $D
    (import "acc" (func $acc (param "x" u32) (result u32)))
    (import "acc-again" (func $acc2 (param "x" u32) (result u32)))
    (import "total" (func $total (result u32)))
    (core func $acc' (canon lower (func $acc)))
    (core func $acc2' (canon lower (func $acc2)))
    (core func $acc3' (canon lower (func $acc)))
    (core func $total' (canon lower (func $total)))
    (core module $M
      (import "" "acc" (func $acc (param i32) (result i32)))
      (import "" "acc2" (func $acc2 (param i32) (result i32)))
      (import "" "acc3" (func $acc3 (param i32) (result i32)))
      (import "" "total" (func $total (result i32)))
      ;; adds x, 2x and 3x through the three lowerings; returns the last running total
      (func (export "run") (param i32) (result i32)
        (drop (call $acc (local.get 0)))
        (drop (call $acc2 (i32.mul (local.get 0) (i32.const 2))))
        (drop (call $acc3 (i32.mul (local.get 0) (i32.const 3))))
        (call $total)))
    (core instance $m (instantiate $M (with "" (instance
      (export "acc" (func $acc')) (export "acc2" (func $acc2')) (export "acc3" (func $acc3'))
      (export "total" (func $total'))))))
    (func (export "run") (param "x" u32) (result u32) (canon lift (core func $m "run")))
  )
  (component $E
    (import "acc" (func $acc (param "x" u32) (result u32)))
    (core func $acc' (canon lower (func $acc)))
    (core module $M
      (import "" "acc" (func $acc (param i32) (result i32)))
      (func (export "run") (param i32) (result i32) (call $acc (i32.mul (local.get 0) (i32.const 100)))))
    (core instance $m (instantiate $M (with "" (instance (export "acc" (func $acc'))))))
    (func (export "run") (param "x" u32) (result u32) (canon lift (core func $m "run")))
  )
  (instance $c (instantiate $C))
  (instance $d1 (instantiate $D (with "acc" (func $c "acc")) (with "acc-again" (func $c "acc")) (with "total" (func $c "total"))))
  (instance $d2 (instantiate $D (with "acc" (func $c "acc")) (with "acc-again" (func $c "acc")) (with "total" (func $c "total"))))
  (instance $e (instantiate $E (with "acc" (func $c "acc"))))
  (func (export "d1") (alias export $d1 "run"))
  (func (export "d2") (alias export $d2 "run"))
  (func (export "e") (alias export $e "run"))
  (func (export "total") (alias export $c "total"))
)
(assert_return (invoke "d1" (u32.const 1)) (u32.const 6))
(assert_return (invoke "d2" (u32.const 2)) (u32.const 18))
(assert_return (invoke "e" (u32.const 3)) (u32.const 318))
(assert_return (invoke "d1" (u32.const 10)) (u32.const 378))
(assert_return (invoke "total") (u32.const 378))

;; Adapters used during instantiation (start functions) and callees instantiated after other
;; components already use adapters, so that the fused calls into one callee are spread over
;; several adapter modules: S1's start calls C; then E is instantiated; S2's start calls C
;; and E; T (instantiated last) calls C, E and S2.
(component
  (component $C
    (core module $M
      (global $n (mut i32) (i32.const 0))
      ;; n = n * 10 + x; returns n
      (func (export "push") (param i32) (result i32)
        (global.set $n (i32.add (i32.mul (global.get $n) (i32.const 10)) (local.get 0)))
        (global.get $n)))
    (core instance $m (instantiate $M))
    (func (export "push") (param "x" u32) (result u32) (canon lift (core func $m "push")))
  )
  (component $S1
    (import "push" (func $push (param "x" u32) (result u32)))
    (core func $push' (canon lower (func $push)))
    (core module $M
      (import "" "push" (func $push (param i32) (result i32)))
      (global $seen (mut i32) (i32.const -1))
      (func $start (global.set $seen (call $push (i32.const 1))))
      (start $start)
      (func (export "seen") (result i32) (global.get $seen)))
    (core instance $m (instantiate $M (with "" (instance (export "push" (func $push'))))))
    (func (export "seen") (result u32) (canon lift (core func $m "seen")))
  )
  (component $E
    (core module $M
      (func (export "twice") (param i64) (result i64) (i64.mul (local.get 0) (i64.const 2))))
    (core instance $m (instantiate $M))
    (func (export "twice") (param "x" u64) (result u64) (canon lift (core func $m "twice")))
  )
  (component $S2
    (import "push" (func $push (param "x" u32) (result u32)))
    (import "twice" (func $twice (param "x" u64) (result u64)))
    ;; The lowerings name S2's own memory, which only exists once $libc is instantiated: their
    ;; adapters cannot be in the module S1's start function needed.
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core func $push' (canon lower (func $push) (memory (core memory $libc "mem"))))
    (core func $twice' (canon lower (func $twice) (memory (core memory $libc "mem"))))
    (core module $M
      (import "" "push" (func $push (param i32) (result i32)))
      (import "" "twice" (func $twice (param i64) (result i64)))
      (global $seen (mut i32) (i32.const -1))
      (func $start
        (global.set $seen (call $push (i32.wrap_i64 (call $twice (i64.const 1))))))
      (start $start)
      (func (export "seen") (result i32) (global.get $seen))
      (func (export "quad") (param i64) (result i64) (call $twice (call $twice (local.get 0)))))
    (core instance $m (instantiate $M (with "" (instance (export "push" (func $push')) (export "twice" (func $twice'))))))
    (func (export "seen") (result u32) (canon lift (core func $m "seen")))
    (func (export "quad") (param "x" u64) (result u64) (canon lift (core func $m "quad")))
  )
  (component $T
    (import "push" (func $push (param "x" u32) (result u32)))
    (import "twice" (func $twice (param "x" u64) (result u64)))
    (import "quad" (func $quad (param "x" u64) (result u64)))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core func $push' (canon lower (func $push) (memory (core memory $libc "mem"))))
    (core func $twice' (canon lower (func $twice) (memory (core memory $libc "mem"))))
    (core func $quad' (canon lower (func $quad)))
    (core module $M
      (import "" "push" (func $push (param i32) (result i32)))
      (import "" "twice" (func $twice (param i64) (result i64)))
      (import "" "quad" (func $quad (param i64) (result i64)))
      ;; push(x) * 2^32 + quad(twice(x))
      (func (export "run") (param i32) (result i64)
        (i64.add
          (i64.shl (i64.extend_i32_u (call $push (local.get 0))) (i64.const 32))
          (call $quad (call $twice (i64.extend_i32_u (local.get 0)))))))
    (core instance $m (instantiate $M (with "" (instance
      (export "push" (func $push')) (export "twice" (func $twice')) (export "quad" (func $quad'))))))
    (func (export "run") (param "x" u32) (result u64) (canon lift (core func $m "run")))
  )
  (instance $c (instantiate $C))
  (instance $s1 (instantiate $S1 (with "push" (func $c "push"))))
  (instance $e (instantiate $E))
  (instance $s2 (instantiate $S2 (with "push" (func $c "push")) (with "twice" (func $e "twice"))))
  (instance $t (instantiate $T (with "push" (func $c "push")) (with "twice" (func $e "twice")) (with "quad" (func $s2 "quad"))))
  (func (export "s1-seen") (alias export $s1 "seen"))
  (func (export "s2-seen") (alias export $s2 "seen"))
  (func (export "run") (alias export $t "run"))
)
(assert_return (invoke "s1-seen") (u32.const 1))
(assert_return (invoke "s2-seen") (u32.const 12))
;; push(3) = 123; quad(twice(3)) = 24
(assert_return (invoke "run" (u32.const 3)) (u64.const 0x7b_0000_0018))
;; push(0) = 1230; quad(twice(0)) = 0
(assert_return (invoke "run" (u32.const 0)) (u64.const 0x4ce_0000_0000))

;; A string through a chain of three components with three string encodings: A (utf8) calls B
;; (utf16), whose core code calls C (latin1+utf16) and passes C's result back; and A calls
;; B's re-export of C's `units` (a lift of B's own lowering, so the string crosses B's memory
;; in utf16 between two adapters without B's core code).
(component
  (component $C
    (core module $M
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        (if (local.get 0) (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
        (local.get $p))
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 8) (local.get 0))
        (i32.store (i32.const 12) (local.get 1))
        (i32.const 8))
      (func (export "units") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $m "echo") (memory (core memory $m "mem")) (realloc (core func $m "realloc")) string-encoding=latin1+utf16))
    (func (export "units") (param "s" string) (result u32)
      (canon lift (core func $m "units") (memory (core memory $m "mem")) (realloc (core func $m "realloc")) string-encoding=latin1+utf16))
  )
  (component $B
    (import "echo" (func $echo (param "s" string) (result string)))
    (import "units" (func $units (param "s" string) (result u32)))
    (core module $Libc
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        (if (local.get 0) (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
        (local.get $p)))
    (core instance $libc (instantiate $Libc))
    (core func $echo' (canon lower (func $echo) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc")) string-encoding=utf16))
    (core func $units' (canon lower (func $units) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc")) string-encoding=utf16))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "echo" (func $echo (param i32 i32 i32)))
      ;; echoes through C, and records the utf16 units B saw coming back
      (global $seen (mut i32) (i32.const 0))
      (func (export "echo") (param i32 i32) (result i32)
        (call $echo (local.get 0) (local.get 1) (i32.const 16))
        (global.set $seen (i32.load (i32.const 20)))
        (i32.const 16))
      (func (export "seen") (result i32) (global.get $seen)))
    (core instance $m (instantiate $M (with "" (instance (export "mem" (memory $libc "mem")) (export "echo" (func $echo'))))))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $m "echo") (memory (core memory $libc "mem")) (realloc (core func $libc "realloc")) string-encoding=utf16))
    (func (export "units") (param "s" string) (result u32)
      (canon lift (core func $units') (memory (core memory $libc "mem")) (realloc (core func $libc "realloc")) string-encoding=utf16))
    (func (export "seen") (result u32) (canon lift (core func $m "seen")))
  )
  (component $A
    (import "echo" (func $echo (param "s" string) (result string)))
    (import "units" (func $units (param "s" string) (result u32)))
    (core module $Libc
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        (if (local.get 0) (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
        (local.get $p)))
    (core instance $libc (instantiate $Libc))
    (core func $echo' (canon lower (func $echo) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
    (core func $units' (canon lower (func $units) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
    (core module $M
      (import "" "echo" (func $echo (param i32 i32 i32)))
      (import "" "units" (func $units (param i32 i32) (result i32)))
      (func (export "echo") (param i32 i32) (result i32) (call $echo (local.get 0) (local.get 1) (i32.const 16)) (i32.const 16))
      (func (export "units") (param i32 i32) (result i32) (call $units (local.get 0) (local.get 1))))
    (core instance $m (instantiate $M (with "" (instance (export "echo" (func $echo')) (export "units" (func $units'))))))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $m "echo") (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
    (func (export "units") (param "s" string) (result u32)
      (canon lift (core func $m "units") (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  )
  (instance $c (instantiate $C))
  (instance $b (instantiate $B (with "echo" (func $c "echo")) (with "units" (func $c "units"))))
  (instance $a (instantiate $A (with "echo" (func $b "echo")) (with "units" (func $b "units"))))
  (export "echo" (func $a "echo"))
  (export "units" (func $a "units"))
  (export "b-seen" (func $b "seen"))
)
(assert_return (invoke "echo" (str.const "h\u{e9}llo \u{2603} \u{1d11e}")) (str.const "h\u{e9}llo \u{2603} \u{1d11e}"))
;; 10 utf16 units
(assert_return (invoke "b-seen") (u32.const 10))
(assert_return (invoke "echo" (str.const "caf\u{e9}")) (str.const "caf\u{e9}"))
(assert_return (invoke "b-seen") (u32.const 4))
;; C sees latin1 (4 units) or utf16 with the tag (10 units | 2^31)
(assert_return (invoke "units" (str.const "caf\u{e9}")) (u32.const 4))
(assert_return (invoke "units" (str.const "h\u{e9}llo \u{2603} \u{1d11e}")) (u32.const 0x8000000a))
(assert_return (invoke "units" (str.const "")) (u32.const 0))
