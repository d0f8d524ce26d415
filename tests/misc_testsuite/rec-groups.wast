;; Function types in recursion groups: a type is the same type as another exactly when both
;; sit at the same place of structurally equal groups (iso-recursive equivalence). Checked
;; where types meet at run time (call_indirect, call_ref through a table) and at link time
;; (functions, tags, typed tables and globals).

(module $M
  (rec (type $a (func (result i32))) (type $b (func (result i32))))
  (type $alone (func (result i32)))
  (func $fa (export "fa") (type $a) (i32.const 1))
  (func $fb (export "fb") (type $b) (i32.const 2))
  (func $falone (export "falone") (type $alone) (i32.const 3))
  (table (export "t") 3 funcref)
  (elem (i32.const 0) func $fa $fb $falone)
  (tag (export "tag-a") (type $a'))
  (rec (type $a' (func (param i32))) (type $b' (func (param i32))))
  (global (export "g") (ref null $b) (ref.func $fb))
  (func (export "call-as-a") (param i32) (result i32)
    (call_indirect (type $a) (local.get 0)))
  (func (export "call-as-b") (param i32) (result i32)
    (call_indirect (type $b) (local.get 0)))
  (func (export "call-as-alone") (param i32) (result i32)
    (call_indirect (type $alone) (local.get 0)))
)
(register "M" $M)

;; Each function is only its own type, though all three have one shape.
(assert_return (invoke "call-as-a" (i32.const 0)) (i32.const 1))
(assert_trap (invoke "call-as-a" (i32.const 1)) "indirect call type mismatch")
(assert_trap (invoke "call-as-a" (i32.const 2)) "indirect call type mismatch")
(assert_trap (invoke "call-as-b" (i32.const 0)) "indirect call type mismatch")
(assert_return (invoke "call-as-b" (i32.const 1)) (i32.const 2))
(assert_trap (invoke "call-as-alone" (i32.const 1)) "indirect call type mismatch")
(assert_return (invoke "call-as-alone" (i32.const 2)) (i32.const 3))

;; Another module with an equal group: its types are M's, so M's table entries call.
(module
  (type $alone (func (result i32)))
  (rec (type $a (func (result i32))) (type $b (func (result i32))))
  (import "M" "t" (table 3 funcref))
  (import "M" "fb" (func $fb (type $b)))
  (import "M" "falone" (func (type $alone)))
  (func (export "b-by-table") (result i32) (call_indirect (type $b) (i32.const 1)))
  (func (export "a-by-table") (result i32) (call_indirect (type $a) (i32.const 0)))
  (func (export "alone-as-b") (result i32) (call_indirect (type $b) (i32.const 2)))
  (func (export "b-direct") (result i32) (call $fb))
)
(assert_return (invoke "b-by-table") (i32.const 2))
(assert_return (invoke "a-by-table") (i32.const 1))
(assert_trap (invoke "alone-as-b") "indirect call type mismatch")
(assert_return (invoke "b-direct") (i32.const 2))

;; Same shape, other place or other group: not the type of the export.
(assert_unlinkable
  (module
    (rec (type $a (func (result i32))) (type $b (func (result i32))))
    (import "M" "fa" (func (type $b))))
  "incompatible import type")
(assert_unlinkable
  (module (type $alone (func (result i32))) (import "M" "fa" (func (type $alone))))
  "incompatible import type")
(assert_unlinkable
  (module
    (rec (type $a (func (result i32))) (type $b (func (result i32))) (type $c (func (result i32))))
    (import "M" "fa" (func (type $a))))
  "incompatible import type")
(assert_unlinkable
  (module
    (rec (type $a' (func (param i32))) (type $b' (func (param i32))))
    (import "M" "tag-a" (tag (type $b'))))
  "incompatible import type")
(module
  (rec (type $a' (func (param i32))) (type $b' (func (param i32))))
  (import "M" "tag-a" (tag (type $a'))))

;; A typed global: its reference type names M's `$b` by identity.
(module
  (rec (type $a (func (result i32))) (type $b (func (result i32))))
  (import "M" "g" (global (ref null $b))))
(assert_unlinkable
  (module
    (rec (type $a (func (result i32))) (type $b (func (result i32))))
    (import "M" "g" (global (ref null $a))))
  "incompatible import type")

;; References inside a group compare by place in the group, so a group that refers to
;; itself links with an equal group of another module.
(module $Self
  (rec
    (type $f (func (param (ref null $g)) (result i32)))
    (type $g (func (param (ref null $f)) (result i32))))
  (func (export "f") (type $f) (i32.const 10))
  (func (export "g") (type $g) (i32.const 20))
)
(register "Self" $Self)
(module
  (rec
    (type $f (func (param (ref null $g)) (result i32)))
    (type $g (func (param (ref null $f)) (result i32))))
  (import "Self" "g" (func (type $g))))
(assert_unlinkable
  (module
    (rec
      (type $g (func (param (ref null $f)) (result i32)))
      (type $f (func (param (ref null $g)) (result i32))))
    (import "Self" "g" (func (type $g))))
  "incompatible import type")

;; Finality is part of a type.
(module $Open
  (type $open (sub (func)))
  (func (export "f") (type $open)))
(register "Open" $Open)
(module (type $open (sub (func))) (import "Open" "f" (func (type $open))))
(assert_unlinkable
  (module (type $final (func)) (import "Open" "f" (func (type $final))))
  "incompatible import type")

;; What is GC's is refused by name when the module is compiled.
(assert_invalid
  (module (type (struct)))
  "struct type")
