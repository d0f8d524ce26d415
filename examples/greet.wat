;; A small component for `weld run --invoke`, with arguments and results in WAVE syntax:
;;
;;   weld run --invoke 'add(1, 2)' examples/greet.wat               -> 3
;;   weld run --invoke 'greet("world")' examples/greet.wat          -> "Hello, world!"
;;   weld run --invoke 'summarize([3, -1, 4])' examples/greet.wat   -> {count: 3, sum: 6, min: some(-1), max: some(4)}
;;   weld run --invoke 'divide(7, 0)' examples/greet.wat            -> err("division by zero")
;;   weld run --invoke 'math#mul(6, 7)' examples/greet.wat          -> 42
;;   weld run --invoke 'math#div(1, 0)' examples/greet.wat          -> traps: integer divide by zero
;;
;; One core module does the work in its linear memory. Its `realloc` is a bump allocator, and
;; every function that returns through memory has `reset` as its post-return function, which
;; frees everything at once: nothing allocated during a call outlives it.
(component
  (core module $m
    (memory (export "memory") 1)
    ;; The next free byte; everything below 1024 is static data.
    (global $heap (mut i32) (i32.const 1024))
    (data (i32.const 16) "Hello, ")
    (data (i32.const 32) "division by zero")

    ;; realloc(old_ptr, old_size, align, new_size) -> ptr: bumps the heap pointer (growing the
    ;; memory when needed) and copies the old block's contents.
    (func $realloc (export "realloc")
      (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32)
      (result i32)
      (local $ptr i32) (local $end i32) (local $limit i32)
      ;; Round the heap pointer up to the alignment (a power of two).
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
      (local.set $limit (i32.shl (memory.size) (i32.const 16)))
      (if (i32.gt_u (local.get $end) (local.get $limit))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.shr_u
                    (i32.add (i32.sub (local.get $end) (local.get $limit)) (i32.const 0xffff))
                    (i32.const 16)))
                (i32.const -1))
            (then unreachable))))
      (global.set $heap (local.get $end))
      (memory.copy (local.get $ptr) (local.get $old_ptr)
        (select (local.get $old_size) (local.get $new_size)
          (i32.lt_u (local.get $old_size) (local.get $new_size))))
      (local.get $ptr))

    (func $alloc (param $align i32) (param $size i32) (result i32)
      (call $realloc (i32.const 0) (i32.const 0) (local.get $align) (local.get $size)))

    ;; The post-return function: the results have been read, free everything.
    (func $reset (export "reset") (param i32)
      (global.set $heap (i32.const 1024)))

    (func $add (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))

    ;; greet(name: string) -> string, returned as a pointer to (ptr, len).
    (func $greet (export "greet") (param $name i32) (param $len i32) (result i32)
      (local $out i32) (local $ret i32)
      (local.set $out (call $alloc (i32.const 1) (i32.add (local.get $len) (i32.const 8))))
      (memory.copy (local.get $out) (i32.const 16) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
      (i32.store8 (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 7)))
        (i32.const 0x21)) ;; '!'
      (local.set $ret (call $alloc (i32.const 4) (i32.const 8)))
      (i32.store (local.get $ret) (local.get $out))
      (i32.store offset=4 (local.get $ret) (i32.add (local.get $len) (i32.const 8)))
      (local.get $ret))

    ;; summarize(values: list<s32>) -> summary, returned as a pointer to the record:
    ;; count: u32 at 0, sum: s64 at 8, min: option<s32> at 16, max: option<s32> at 24.
    (func $summarize (export "summarize") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $x i32) (local $sum i64) (local $min i32) (local $max i32)
      (local $ret i32) (local $some i32)
      (local.set $min (i32.const 0x7fffffff))
      (local.set $max (i32.const 0x80000000))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $x (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_s (local.get $x))))
          (if (i32.lt_s (local.get $x) (local.get $min)) (then (local.set $min (local.get $x))))
          (if (i32.gt_s (local.get $x) (local.get $max)) (then (local.set $max (local.get $x))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.set $some (i32.ne (local.get $len) (i32.const 0)))
      (local.set $ret (call $alloc (i32.const 8) (i32.const 32)))
      (i32.store (local.get $ret) (local.get $len))
      (i64.store offset=8 (local.get $ret) (local.get $sum))
      (i32.store8 offset=16 (local.get $ret) (local.get $some))
      (i32.store offset=20 (local.get $ret) (local.get $min))
      (i32.store8 offset=24 (local.get $ret) (local.get $some))
      (i32.store offset=28 (local.get $ret) (local.get $max))
      (local.get $ret))

    ;; divide(a: u32, b: u32) -> result<u32, string>, returned as a pointer to the
    ;; discriminant (at 0) and the payload (at 4).
    (func $divide (export "divide") (param $a i32) (param $b i32) (result i32)
      (local $ret i32)
      (local.set $ret (call $alloc (i32.const 4) (i32.const 12)))
      (if (i32.eqz (local.get $b))
        (then
          (i32.store8 (local.get $ret) (i32.const 1))
          (i32.store offset=4 (local.get $ret) (i32.const 32))
          (i32.store offset=8 (local.get $ret) (i32.const 16)))
        (else
          (i32.store8 (local.get $ret) (i32.const 0))
          (i32.store offset=4 (local.get $ret) (i32.div_u (local.get $a) (local.get $b)))))
      (local.get $ret))

    (func $mul (export "mul") (param i32 i32) (result i32)
      (i32.mul (local.get 0) (local.get 1)))

    ;; Traps when dividing by zero.
    (func $div (export "div") (param i32 i32) (result i32)
      (i32.div_u (local.get 0) (local.get 1)))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $memory))
  (alias core export $i "realloc" (core func $realloc))
  (alias core export $i "reset" (core func $reset))

  (func $add (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (func $greet (param "name" string) (result string)
    (canon lift (core func $i "greet") (memory $memory) (realloc $realloc) (post-return $reset)))
  (type $summary' (record
    (field "count" u32) (field "sum" s64) (field "min" (option s32)) (field "max" (option s32))))
  (export $summary "summary" (type $summary'))
  (func $summarize (param "values" (list s32)) (result $summary)
    (canon lift (core func $i "summarize") (memory $memory) (realloc $realloc) (post-return $reset)))
  (func $divide (param "a" u32) (param "b" u32) (result (result u32 (error string)))
    (canon lift (core func $i "divide") (memory $memory) (post-return $reset)))
  (func $mul (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "mul")))
  (func $div (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "div")))
  ;; An exported instance: its functions are invoked as `math#mul(...)` and `math#div(...)`.
  (instance $math (export "mul" (func $mul)) (export "div" (func $div)))

  (export "add" (func $add))
  (export "greet" (func $greet))
  (export "summarize" (func $summarize))
  (export "divide" (func $divide))
  (export "math" (instance $math))
)
