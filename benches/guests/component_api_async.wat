;; `add-one` lifted with the async ABI, for the async rows of benches/component_api.rs: in
;; callback mode (it returns its result with `task.return` and exits at once), and stackful
;; (the same, on a thread that could block).
(component
  (core module $M
    (import "" "task.return" (func $task.return (param i32)))
    (func (export "add-one-callback") (param i32) (result i32)
      (call $task.return (i32.add (local.get 0) (i32.const 1)))
      (i32.const 0 (; EXIT ;)))
    (func (export "callback") (param i32 i32 i32) (result i32) unreachable)
    (func (export "add-one-stackful") (param i32)
      (call $task.return (i32.add (local.get 0) (i32.const 1)))))
  (canon task.return (result u32) (core func $task.return))
  (core instance $m (instantiate $M (with "" (instance (export "task.return" (func $task.return))))))
  (func (export "add-one-callback") async (param "x" u32) (result u32)
    (canon lift (core func $m "add-one-callback") async (callback (core func $m "callback"))))
  (func (export "add-one-stackful") async (param "x" u32) (result u32)
    (canon lift (core func $m "add-one-stackful") async)))
