//! `poll::set_blocking_wrapper`: every sleep of this thread's WASI waits runs inside the
//! wrapper, once; a wait that finds its pollable ready does not sleep and does not call it;
//! other threads keep sleeping directly.

use std::cell::Cell;
use std::time::{Duration, Instant};
use weld_wasi::poll::{Readiness, block_until, set_blocking_wrapper};

thread_local! {
    static WRAPPED: Cell<u32> = const { Cell::new(0) };
}

fn counting(sleep: &mut dyn FnMut()) {
    WRAPPED.with(|w| w.set(w.get() + 1));
    sleep();
}

#[test]
fn sleeps_go_through_the_wrapper_and_ready_waits_do_not() {
    set_blocking_wrapper(Some(counting));
    let start = Instant::now();
    block_until(Readiness::at(start + Duration::from_millis(20))).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(20), "the wrapper ran the sleep");
    assert_eq!(WRAPPED.with(Cell::get), 1);
    block_until(Readiness::Ready).unwrap();
    block_until(Readiness::at(start)).unwrap();
    assert_eq!(WRAPPED.with(Cell::get), 1, "a ready wait does not sleep");
    std::thread::spawn(|| {
        block_until(Readiness::at(Instant::now() + Duration::from_millis(5))).unwrap();
        assert_eq!(WRAPPED.with(Cell::get), 0, "another thread has no wrapper");
    })
    .join()
    .unwrap();
    set_blocking_wrapper(None);
    block_until(Readiness::at(Instant::now() + Duration::from_millis(5))).unwrap();
    assert_eq!(WRAPPED.with(Cell::get), 1);
}
