;; A small module for trying weld out:
;;   cargo run --release -- run --invoke fib examples/hello.wat 20
;;   cargo run --release -- run --invoke add examples/hello.wat 2 40
(module
  ;; The n-th Fibonacci number, computed the slow (recursive) way.
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
