;; The guests of the async rows of benches/component_api.rs (and of Wasmtime's side,
;; benches/reference/benches/async_calls.rs): one component made of three inner ones.
;;
;; $Caller: guest -> host calls. `call-host-stackful` and `call-host-callback` call the
;; imported `async func(x: u32) -> u32` `n` times with an async lower, for x = 0 .. n-1, wait
;; for each subtask that does not return at once, and return the sum of the results.
;;
;; $Producer: `produce(n)` returns a `stream<u8>` and writes `n` bytes into it, 64 KiB at a
;; time (callback mode), then drops its writable end.
;;
;; $Consumer: `consume(s)` reads the `stream<u8>` it is given into a 64 KiB buffer until the
;; writer drops it and returns how many bytes came; `guest-to-guest(n)` calls $Producer's
;; `produce(n)` and reads its stream the same way (callback mode).
;;
;; Codes (Concurrency.md): async lower returns RETURNED = 2 or (subtask << 4) | state;
;; stream copies return BLOCKED = -1 or (count << 4) | result (DROPPED = 1); events
;; SUBTASK = 1, STREAM_READ = 2, STREAM_WRITE = 3; callbacks return EXIT = 0 or
;; WAIT = 2 | (set << 4).
(component
  (import "host-add-one" (func $host-add-one async (param "x" u32) (result u32)))

  (component $Caller
    (import "host-add-one" (func $add async (param "x" u32) (result u32)))
    (core module $Memory (memory (export "mem") 1))
    (core instance $memory (instantiate $Memory))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "task.return" (func $task.return (param i32)))
      (import "" "waitable.join" (func $waitable.join (param i32 i32)))
      (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
      (import "" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
      (import "" "waitable-set.drop" (func $waitable-set.drop (param i32)))
      (import "" "subtask.drop" (func $subtask.drop (param i32)))
      (import "" "add" (func $add (param i32 i32) (result i32)))

      ;; The result of a call lands at 0; waitable-set.wait puts its event at 8.
      ;; The callback-mode loop's state.
      (global $n (mut i32) (i32.const 0))
      (global $i (mut i32) (i32.const 0))
      (global $sum (mut i32) (i32.const 0))
      (global $ws (mut i32) (i32.const 0))
      (global $sub (mut i32) (i32.const 0))

      (func (export "call-host-stackful") (param $n i32)
        (local $i i32) (local $sum i32) (local $ret i32) (local $ws i32) (local $sub i32)
        (local.set $ws (call $waitable-set.new))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $ret (call $add (local.get $i) (i32.const 0)))
            (if (i32.ne (local.get $ret) (i32.const 2 (; RETURNED ;)))
              (then
                (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
                (call $waitable.join (local.get $sub) (local.get $ws))
                (loop $wait
                  (if (i32.ne (call $waitable-set.wait (local.get $ws) (i32.const 8)) (i32.const 1 (; SUBTASK ;)))
                    (then unreachable))
                  (br_if $wait (i32.ne (i32.load (i32.const 12)) (i32.const 2 (; RETURNED ;)))))
                (call $subtask.drop (local.get $sub))))
            (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (call $waitable-set.drop (local.get $ws))
        (call $task.return (local.get $sum)))

      (func (export "call-host-callback") (param $n i32) (result i32)
        (global.set $n (local.get $n))
        (global.set $i (i32.const 0))
        (global.set $sum (i32.const 0))
        (global.set $ws (call $waitable-set.new))
        (call $drive))

      ;; Calls until one does not return at once (then waits for it) or all are done.
      (func $drive (result i32)
        (local $ret i32)
        (loop $next
          (if (i32.ge_u (global.get $i) (global.get $n))
            (then
              (call $waitable-set.drop (global.get $ws))
              (call $task.return (global.get $sum))
              (return (i32.const 0 (; EXIT ;)))))
          (local.set $ret (call $add (global.get $i) (i32.const 0)))
          (if (i32.ne (local.get $ret) (i32.const 2 (; RETURNED ;)))
            (then
              (global.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
              (call $waitable.join (global.get $sub) (global.get $ws))
              (return (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (global.get $ws) (i32.const 4))))))
          (global.set $sum (i32.add (global.get $sum) (i32.load (i32.const 0))))
          (global.set $i (i32.add (global.get $i) (i32.const 1)))
          (br $next))
        unreachable)

      (func (export "call-host-cb") (param $event i32) (param $index i32) (param $payload i32) (result i32)
        (if (i32.ne (local.get $event) (i32.const 1 (; SUBTASK ;)))
          (then unreachable))
        (if (i32.ne (local.get $payload) (i32.const 2 (; RETURNED ;)))
          (then (return (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (global.get $ws) (i32.const 4))))))
        (call $subtask.drop (global.get $sub))
        (global.set $sum (i32.add (global.get $sum) (i32.load (i32.const 0))))
        (global.set $i (i32.add (global.get $i) (i32.const 1)))
        (call $drive)))
    (canon task.return (result u32) (core func $task.return))
    (canon waitable.join (core func $waitable.join))
    (canon waitable-set.new (core func $waitable-set.new))
    (canon waitable-set.wait (memory (core memory $memory "mem")) (core func $waitable-set.wait))
    (canon waitable-set.drop (core func $waitable-set.drop))
    (canon subtask.drop (core func $subtask.drop))
    (canon lower (func $add) async (memory (core memory $memory "mem")) (core func $add'))
    (core instance $m (instantiate $M (with "" (instance
      (export "mem" (memory $memory "mem"))
      (export "task.return" (func $task.return))
      (export "waitable.join" (func $waitable.join))
      (export "waitable-set.new" (func $waitable-set.new))
      (export "waitable-set.wait" (func $waitable-set.wait))
      (export "waitable-set.drop" (func $waitable-set.drop))
      (export "subtask.drop" (func $subtask.drop))
      (export "add" (func $add'))))))
    (func (export "call-host-stackful") async (param "n" u32) (result u32)
      (canon lift (core func $m "call-host-stackful") async))
    (func (export "call-host-callback") async (param "n" u32) (result u32)
      (canon lift (core func $m "call-host-callback") async (callback (core func $m "call-host-cb")))))

  (component $Producer
    (core module $Memory (memory (export "mem") 2))
    (core instance $memory (instantiate $Memory))
    (core module $M
      (import "" "mem" (memory 2))
      (import "" "task.return" (func $task.return (param i32)))
      (import "" "waitable.join" (func $waitable.join (param i32 i32)))
      (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
      (import "" "waitable-set.drop" (func $waitable-set.drop (param i32)))
      (import "" "stream.new" (func $stream.new (result i64)))
      (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
      (import "" "stream.drop-writable" (func $stream.drop-writable (param i32)))

      ;; The bytes written are the 64 KiB at 0x10000.
      (global $w (mut i32) (i32.const 0))
      (global $left (mut i32) (i32.const 0))
      (global $ws (mut i32) (i32.const 0))

      (func (export "produce") (param $n i32) (result i32)
        (local $ends i64)
        (local.set $ends (call $stream.new))
        (global.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
        (global.set $left (local.get $n))
        (global.set $ws (call $waitable-set.new))
        (call $waitable.join (global.get $w) (global.get $ws))
        (call $task.return (i32.wrap_i64 (local.get $ends)))
        (call $pump))

      ;; Writes until a write blocks (then waits for it) or all is written.
      (func $pump (result i32)
        (local $ret i32)
        (loop $next
          (if (i32.eqz (global.get $left))
            (then (return (call $finish))))
          (local.set $ret
            (call $stream.write (global.get $w) (i32.const 0x10000)
              (select (global.get $left) (i32.const 0x10000)
                (i32.lt_u (global.get $left) (i32.const 0x10000)))))
          (if (i32.eq (local.get $ret) (i32.const -1 (; BLOCKED ;)))
            (then (return (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (global.get $ws) (i32.const 4))))))
          (if (call $wrote (local.get $ret))
            (then (return (call $finish))))
          (br $next))
        unreachable)

      ;; Counts a finished write; returns whether the reader is gone.
      (func $wrote (param $result i32) (result i32)
        (global.set $left (i32.sub (global.get $left) (i32.shr_u (local.get $result) (i32.const 4))))
        (i32.eq (i32.and (local.get $result) (i32.const 0xf)) (i32.const 1 (; DROPPED ;))))

      (func $finish (result i32)
        (call $stream.drop-writable (global.get $w))
        (call $waitable-set.drop (global.get $ws))
        (i32.const 0 (; EXIT ;)))

      (func (export "produce-cb") (param $event i32) (param $index i32) (param $payload i32) (result i32)
        (if (i32.ne (local.get $event) (i32.const 3 (; STREAM_WRITE ;)))
          (then unreachable))
        (if (call $wrote (local.get $payload))
          (then (return (call $finish))))
        (call $pump)))
    (type $ST (stream u8))
    (canon task.return (result $ST) (core func $task.return))
    (canon waitable.join (core func $waitable.join))
    (canon waitable-set.new (core func $waitable-set.new))
    (canon waitable-set.drop (core func $waitable-set.drop))
    (canon stream.new $ST (core func $stream.new))
    (canon stream.write $ST async (memory (core memory $memory "mem")) (core func $stream.write))
    (canon stream.drop-writable $ST (core func $stream.drop-writable))
    (core instance $m (instantiate $M (with "" (instance
      (export "mem" (memory $memory "mem"))
      (export "task.return" (func $task.return))
      (export "waitable.join" (func $waitable.join))
      (export "waitable-set.new" (func $waitable-set.new))
      (export "waitable-set.drop" (func $waitable-set.drop))
      (export "stream.new" (func $stream.new))
      (export "stream.write" (func $stream.write))
      (export "stream.drop-writable" (func $stream.drop-writable))))))
    (func (export "produce") async (param "n" u32) (result (stream u8))
      (canon lift (core func $m "produce") async (callback (core func $m "produce-cb")))))

  (component $Consumer
    (import "produce" (func $produce async (param "n" u32) (result (stream u8))))
    (core module $Memory (memory (export "mem") 2))
    (core instance $memory (instantiate $Memory))
    (core module $M
      (import "" "mem" (memory 2))
      (import "" "task.return" (func $task.return (param i32)))
      (import "" "waitable.join" (func $waitable.join (param i32 i32)))
      (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
      (import "" "waitable-set.drop" (func $waitable-set.drop (param i32)))
      (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
      (import "" "stream.drop-readable" (func $stream.drop-readable (param i32)))
      (import "" "produce" (func $produce (param i32 i32) (result i32)))

      ;; Reads land in the 64 KiB at 0x10000; `produce`'s result at 0.
      (global $r (mut i32) (i32.const 0))
      (global $total (mut i32) (i32.const 0))
      (global $ws (mut i32) (i32.const 0))

      (func $consume (export "consume") (param $r i32) (result i32)
        (global.set $r (local.get $r))
        (global.set $total (i32.const 0))
        (global.set $ws (call $waitable-set.new))
        (call $waitable.join (global.get $r) (global.get $ws))
        (call $drain))

      (func (export "guest-to-guest") (param $n i32) (result i32)
        (if (i32.ne (call $produce (local.get $n) (i32.const 0)) (i32.const 2 (; RETURNED ;)))
          (then unreachable))
        (call $consume (i32.load (i32.const 0))))

      ;; Reads until a read blocks (then waits for it) or the writer is gone.
      (func $drain (result i32)
        (local $ret i32)
        (loop $next
          (local.set $ret (call $stream.read (global.get $r) (i32.const 0x10000) (i32.const 0x10000)))
          (if (i32.eq (local.get $ret) (i32.const -1 (; BLOCKED ;)))
            (then (return (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (global.get $ws) (i32.const 4))))))
          (if (call $got (local.get $ret))
            (then (return (call $finish))))
          (br $next))
        unreachable)

      ;; Counts a finished read; returns whether the writer is gone.
      (func $got (param $result i32) (result i32)
        (global.set $total (i32.add (global.get $total) (i32.shr_u (local.get $result) (i32.const 4))))
        (i32.eq (i32.and (local.get $result) (i32.const 0xf)) (i32.const 1 (; DROPPED ;))))

      (func $finish (result i32)
        (call $stream.drop-readable (global.get $r))
        (call $waitable-set.drop (global.get $ws))
        (call $task.return (global.get $total))
        (i32.const 0 (; EXIT ;)))

      (func (export "consume-cb") (param $event i32) (param $index i32) (param $payload i32) (result i32)
        (if (i32.ne (local.get $event) (i32.const 2 (; STREAM_READ ;)))
          (then unreachable))
        (if (call $got (local.get $payload))
          (then (return (call $finish))))
        (call $drain)))
    (type $ST (stream u8))
    (canon task.return (result u32) (core func $task.return))
    (canon waitable.join (core func $waitable.join))
    (canon waitable-set.new (core func $waitable-set.new))
    (canon waitable-set.drop (core func $waitable-set.drop))
    (canon stream.read $ST async (memory (core memory $memory "mem")) (core func $stream.read))
    (canon stream.drop-readable $ST (core func $stream.drop-readable))
    (canon lower (func $produce) async (memory (core memory $memory "mem")) (core func $produce'))
    (core instance $m (instantiate $M (with "" (instance
      (export "mem" (memory $memory "mem"))
      (export "task.return" (func $task.return))
      (export "waitable.join" (func $waitable.join))
      (export "waitable-set.new" (func $waitable-set.new))
      (export "waitable-set.drop" (func $waitable-set.drop))
      (export "stream.read" (func $stream.read))
      (export "stream.drop-readable" (func $stream.drop-readable))
      (export "produce" (func $produce'))))))
    (func (export "consume") async (param "s" (stream u8)) (result u32)
      (canon lift (core func $m "consume") async (callback (core func $m "consume-cb"))))
    (func (export "guest-to-guest") async (param "n" u32) (result u32)
      (canon lift (core func $m "guest-to-guest") async (callback (core func $m "consume-cb")))))

  (instance $caller (instantiate $Caller (with "host-add-one" (func $host-add-one))))
  (instance $producer (instantiate $Producer))
  (instance $consumer (instantiate $Consumer (with "produce" (func $producer "produce"))))
  (func (export "call-host-stackful") (alias export $caller "call-host-stackful"))
  (func (export "call-host-callback") (alias export $caller "call-host-callback"))
  (func (export "produce") (alias export $producer "produce"))
  (func (export "consume") (alias export $consumer "consume"))
  (func (export "guest-to-guest") (alias export $consumer "guest-to-guest")))
