;; Legacy try clauses are read ahead of the validator: bad labels and tags in them are
;; validation errors, never a crash of the translator.
(assert_invalid (module (func (try (do) (delegate 1)))) "unknown label")
(assert_invalid (module (func (block (try (do) (delegate 2))))) "unknown label")
(assert_invalid (module (func (try (do (call 0)) (catch 5)))) "unknown tag")
(assert_invalid (module (tag) (func (try (do (call 0)) (catch 0) (catch 7)))) "unknown tag")
(assert_invalid (module (tag) (func (try (do (call 0)) (catch 0 (rethrow 3))))) "unknown label")
(assert_invalid (module (func (try (do (call 0) (try (do (call 0)) (delegate 5)))  (catch_all))))  "unknown label")
(module (tag $e) (func (export "ok") (result i32) (try (result i32) (do (throw $e)) (catch $e (i32.const 1)))))
(assert_return (invoke "ok") (i32.const 1))
