;; The second component of the `component_api` bench (and of benches/reference/benches/calls.rs):
;; echoes of a `list<u8>`, a `list<r10>`, a variant with a string payload and a
;; `result<string, string>`, each handing back the value it was given (the host lifts it from
;; where the host lowered it); and `call-host`, which calls the host's `host-add-one` (a
;; host -> guest -> host round trip). `realloc` is a bump allocator that starts over after
;; every call (`reset` is the post-return function).
(component
  (type $r (record (field "a" u32) (field "b" u32) (field "c" u32) (field "d" u32) (field "e" u32)
                   (field "f" u32) (field "g" u32) (field "h" u32) (field "i" u32) (field "j" u32)))
  (export $r' "r10" (type $r))
  (type $v (variant (case "none") (case "text" string)))
  (export $v' "v" (type $v))
  (import "host-add-one" (func $h (param "x" u32) (result u32)))
  (core func $host_add_one (canon lower (func $h)))
  (core instance $host (export "add-one" (func $host_add_one)))
  (core module $m
    (import "host" "add-one" (func $host_add_one (param i32) (result i32)))
    ;; 2.5 MiB: a 1 MiB list and room to spare.
    (memory (export "mem") 40)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $next (i32.const 1024)))
    ;; A list's (pointer, length) back through the return area at 0.
    (func (export "echo-list") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    ;; A case with a string payload back through the return area at 16: the discriminant's
    ;; byte, then the string's (pointer, length) at 20.
    (func (export "echo-case") (param i32 i32 i32) (result i32)
      (i32.store8 (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.store (i32.const 24) (local.get 2))
      (i32.const 16))
    (func (export "call-host") (param i32) (result i32) (call $host_add_one (local.get 0))))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func (export "echo-bytes") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $i "echo-list") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      (post-return (core func $i "reset"))))
  (func (export "echo-records") (param "l" (list $r')) (result (list $r'))
    (canon lift (core func $i "echo-list") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      (post-return (core func $i "reset"))))
  (func (export "echo-variant") (param "v" $v') (result $v')
    (canon lift (core func $i "echo-case") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      (post-return (core func $i "reset"))))
  (func (export "echo-result") (param "r" (result string (error string))) (result (result string (error string)))
    (canon lift (core func $i "echo-case") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      (post-return (core func $i "reset"))))
  (func (export "call-host") (param "x" u32) (result u32) (canon lift (core func $i "call-host"))))
