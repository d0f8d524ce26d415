;; map<K, V> from the host (map.const) and across a fused adapter: a map is passed as its
;; entry list, in order, repeated keys included.

(component
  (component $echo
    (core module $m
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        ;; realloc keeps the old contents
        (memory.copy (local.get $p) (local.get 0) (local.get 1))
        (local.get $p))
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 8) (local.get 0))
        (i32.store (i32.const 12) (local.get 1))
        (i32.const 8))
      (func (export "count") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m))
    (type $map (map string (list u8)))
    (export $map' "map" (type $map))
    (func (export "echo") (param "m" $map') (result $map')
      (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
    (func (export "count") (param "m" $map') (result u32)
      (canon lift (core func $i "count") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))

  ;; $caller forwards through a fused call; its memory is UTF-16 and 64-bit.
  (component $caller
    (import "e" (instance $e
      (type $map (map string (list u8)))
      (export "map" (type (eq $map)))
      (export "echo" (func (param "m" $map) (result $map)))))
    (alias export $e "map" (type $map))
    (core module $mm
      (memory (export "mem") i64 1)
      (global $next (mut i64) (i64.const 1024))
      (func (export "realloc") (param i64 i64 i64 i64) (result i64)
        (local $p i64)
        (local.set $p (i64.and (i64.add (global.get $next) (i64.sub (local.get 2) (i64.const 1)))
                               (i64.sub (i64.const 0) (local.get 2))))
        (global.set $next (i64.add (local.get $p) (local.get 3)))
        ;; realloc keeps the old contents
        (memory.copy (local.get $p) (local.get 0) (local.get 1))
        (local.get $p)))
    (core instance $mi (instantiate $mm))
    (core func $echo (canon lower (func $e "echo") (memory (core memory $mi "mem"))
      (realloc (core func $mi "realloc")) string-encoding=utf16))
    (core module $fwd
      (import "m" "realloc" (func $realloc (param i64 i64 i64 i64) (result i64)))
      (import "e" "echo" (func $echo (param i64 i64 i64)))
      (func (export "run") (param i64 i64) (result i64)
        (local $r i64)
        (local.set $r (call $realloc (i64.const 0) (i64.const 0) (i64.const 8) (i64.const 16)))
        (call $echo (local.get 0) (local.get 1) (local.get $r))
        (local.get $r)))
    (core instance $f (instantiate $fwd (with "m" (instance $mi)) (with "e" (instance (export "echo" (func $echo))))))
    (func (export "run") (param "m" $map) (result $map)
      (canon lift (core func $f "run") (memory (core memory $mi "mem")) (realloc (core func $mi "realloc"))
        string-encoding=utf16)))

  (instance $echo (instantiate $echo))
  (instance $caller (instantiate $caller (with "e" (instance $echo))))
  (export "map" (type $echo "map"))
  (export "echo" (func $echo "echo"))
  (export "count" (func $echo "count"))
  (export "run" (func $caller "run")))

(assert_return (invoke "count" (map.const)) (u32.const 0))
(assert_return
  (invoke "count" (map.const (entry (str.const "a") (list.const)) (entry (str.const "a") (list.const (u8.const 1)))))
  (u32.const 2))
(assert_return
  (invoke "echo" (map.const (entry (str.const "key") (list.const (u8.const 1) (u8.const 2)))
                            (entry (str.const "") (list.const))))
  (map.const (entry (str.const "key") (list.const (u8.const 1) (u8.const 2)))
             (entry (str.const "") (list.const))))
(assert_return
  (invoke "run" (map.const (entry (str.const "hé") (list.const (u8.const 255)))
                           (entry (str.const "日本") (list.const (u8.const 0) (u8.const 7)))
                           (entry (str.const "hé") (list.const))))
  (map.const (entry (str.const "hé") (list.const (u8.const 255)))
             (entry (str.const "日本") (list.const (u8.const 0) (u8.const 7)))
             (entry (str.const "hé") (list.const))))
