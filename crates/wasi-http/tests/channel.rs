//! The byte channel between hyper and a guest, through its public ends: what the guest's
//! streams see (budgets, readiness, the end, a cut-short body) and what hyper's body sees.

use bytes::Bytes;
use http_body::Body;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use weld_wasi::p2::{InputStream, OutputStream, Readiness, StreamError};
use weld_wasi_http::OutgoingPolicy;
use weld_wasi_http::channel::{CAPACITY, End, channel};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

/// Waits for `readiness` the way weld-wasi's poll does (one `poll(2)`), for at most 5 s.
fn wait(readiness: Readiness) -> bool {
    let start = Instant::now();
    weld_wasi::poll::block_until(readiness).unwrap();
    start.elapsed() < Duration::from_secs(5)
}

#[test]
fn a_guest_reads_what_a_task_sends_and_then_the_end() {
    let rt = runtime();
    let (mut writer, mut reader) = channel();
    assert!(!reader.readiness().is_ready(), "nothing sent yet");
    rt.spawn(async move {
        assert!(writer.send(Bytes::from_static(b"hello ")).await);
        assert!(writer.send(Bytes::from_static(b"world")).await);
        writer.finish(None);
    });
    let mut got = Vec::new();
    loop {
        match reader.read(3) {
            Ok(bytes) if bytes.is_empty() => assert!(wait(reader.readiness())),
            Ok(bytes) => {
                assert!(bytes.len() <= 3);
                got.extend(bytes);
            }
            Err(StreamError::Closed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, b"hello world");
    assert!(matches!(reader.end(), Some(End::Complete(None))));
}

#[test]
fn a_writer_dropped_before_finishing_fails_the_body() {
    let (writer, mut reader) = channel();
    drop(writer);
    match reader.read(10) {
        Err(StreamError::LastOperationFailed(e)) => assert!(e.to_string().contains("before it was finished"), "{e}"),
        other => panic!("{:?}", other.map(|b| b.len())),
    }
}

#[test]
fn a_guest_writer_is_held_to_the_capacity_until_the_reader_takes() {
    let (writer, mut reader) = channel();
    let mut stream = writer.stream();
    let budget = stream.check_write().unwrap();
    assert_eq!(budget, CAPACITY);
    stream.write(vec![7; budget]).unwrap();
    assert_eq!(stream.check_write().unwrap(), 0, "full");
    assert!(!stream.readiness().is_ready());
    assert!(matches!(stream.write(vec![1]), Err(StreamError::Trap(_))), "past the budget is a trap");
    // hyper's side takes a chunk: the writer may go on, and is woken.
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut reader).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => assert_eq!(frame.into_data().unwrap().len(), CAPACITY),
        _ => panic!("a frame is ready"),
    }
    assert!(wait(stream.readiness()));
    assert_eq!(stream.check_write().unwrap(), CAPACITY);
    // The reader goes away: the guest's stream is closed.
    drop(reader);
    assert!(matches!(stream.check_write(), Err(StreamError::Closed)));
    drop(writer);
}

#[test]
fn trailers_end_hyper_s_body() {
    let (mut writer, mut reader) = channel();
    let mut stream = writer.stream();
    stream.check_write().unwrap();
    stream.write(b"data".to_vec()).unwrap();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-sum", "9".parse().unwrap());
    writer.finish(Some(trailers));
    let mut cx = Context::from_waker(Waker::noop());
    let mut frames = Vec::new();
    while let Poll::Ready(Some(frame)) = Pin::new(&mut reader).poll_frame(&mut cx) {
        frames.push(frame.unwrap());
    }
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].data_ref().unwrap(), &Bytes::from_static(b"data"));
    assert_eq!(frames[1].trailers_ref().unwrap()["x-sum"], "9");
    assert!(reader.is_end_stream());
}

#[test]
fn outgoing_requests_are_denied_unless_allowed() {
    let mut policy = OutgoingPolicy::default();
    assert!(!policy.allows("example.com:80"));
    policy.allow("Example.com".into());
    assert!(policy.allows("example.com:80") && policy.allows("EXAMPLE.COM"));
    assert!(!policy.allows("example.com:8080") && !policy.allows("other.example:80"));
    assert!(OutgoingPolicy::AllowAll.allows("anything:1"));
}

/// A body cut short gives hyper its data, then one `Pending` (with a wake-up) so that what it
/// buffered is flushed, and only then the failure.
#[test]
fn a_failed_body_lets_hyper_flush_before_the_error() {
    let (writer, mut reader) = channel();
    let mut stream = writer.stream();
    stream.check_write().unwrap();
    stream.write(b"partial".to_vec()).unwrap();
    drop(stream);
    drop(writer);
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut reader).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => assert_eq!(frame.into_data().unwrap(), Bytes::from_static(b"partial")),
        _ => panic!("the data comes first"),
    }
    assert!(Pin::new(&mut reader).poll_frame(&mut cx).is_pending(), "one chance to flush");
    match Pin::new(&mut reader).poll_frame(&mut cx) {
        Poll::Ready(Some(Err(e))) => assert!(e.to_string().contains("before it was finished"), "{e}"),
        _ => panic!("then the failure"),
    }
}
