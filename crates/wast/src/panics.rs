//! Where a caught panic happened: a panic hook, installed once per process, records the
//! location of the last panic on each thread, and [`panic_message`] turns a caught panic's
//! payload into a message that names it.
//!
//! It catches nothing itself (the runner and `spectest` do, around each directive or item) and
//! replaces no hook: the previous hook still runs, so panics print as before. It is apart
//! because both the directive executor and `spectest` report panics the same way.

thread_local! {
    /// Where the last panic on this thread happened, recorded by the hook of
    /// [`record_panic_locations`].
    static LAST_PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Wraps the current panic hook (once per process) so that the runner can say where a caught
/// panic happened. The previous hook still runs, so panics print as before.
pub(crate) fn record_panic_locations() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(loc) = info.location() {
                let loc = format!("{}:{}", loc.file(), loc.line());
                LAST_PANIC_LOCATION.with(|l| *l.borrow_mut() = Some(loc));
            }
            previous(info);
        }));
    });
}

/// The message of a caught panic payload, with the place it happened if it is known.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    };
    match LAST_PANIC_LOCATION.with(|l| l.borrow_mut().take()) {
        Some(loc) => format!("{message} (at {loc})"),
        None => message,
    }
}
