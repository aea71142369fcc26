#![cfg(feature = "metabase")]
//! What one error may cost in memory, counted by a global allocator on the test's own thread:
//! a hostile error body of under 64 KiB shaped to multiply (16,000 field errors under a 32 KiB
//! key) builds an error whose peak heap stays within 4× the error-body cap, and whose
//! `Display` stays small. And what a call holds while it waits.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use userapi::{Client, DEFAULT_MAX_ERROR_BODY_BYTES, RetryPolicy};

use crate::support::raw::{Action, RawServer};

/// Counts the heap of the threads that asked for it (see [`count_this_thread`]): in one test
/// binary other tests allocate at the same time, on their own threads, and must not show in
/// the measurement.
struct Counting;

/// Bytes held by counted threads, from an offset so that freeing memory a counted thread did
/// not count never goes below zero. Only differences are read.
static CURRENT: AtomicUsize = AtomicUsize::new(usize::MAX / 2);
static PEAK: AtomicUsize = AtomicUsize::new(usize::MAX / 2);

thread_local! {
    /// Whether this thread's allocations count. A `const` `Cell` needs no allocation and no
    /// destructor, so the allocator may read it.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn counted() -> bool {
    COUNTED.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && counted() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if counted() {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counts this thread's allocations until the guard drops. Whatever runs on a current-thread
/// runtime driven from this thread counts; servers on threads of their own do not.
fn count_this_thread() -> impl Drop {
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            COUNTED.with(|c| c.set(false));
        }
    }
    COUNTED.with(|c| c.set(true));
    Stop
}

/// The hostile body: `{"errors": {"<32 KiB key>": [0, 0, … 16,000 zeros]}}`, under 64 KiB.
fn hostile_body() -> Vec<u8> {
    let key = "k".repeat(32 * 1024);
    let zeros = vec!["0"; 16_000].join(",");
    let body = format!(r#"{{"errors":{{"{key}":[{zeros}]}}}}"#);
    assert!(body.len() < DEFAULT_MAX_ERROR_BODY_BYTES);
    body.into_bytes()
}

/// A server on a thread of its own: it answers every request with `response`.
fn serve(response: Vec<u8>) -> u16 {
    RawServer::spawn(Arc::new(move |_| Action::Send(response.clone()))).leak()
}

#[test]
fn a_hostile_error_body_costs_at_most_four_times_the_cap() {
    let _counting = count_this_thread();
    let body = hostile_body();
    let mut response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    let port = serve(response);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/"))
        .auth(userapi::metabase::auth::api_key("mb_key"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    // Warm up: the first call sets up the connection machinery.
    let _ = rt.block_on(client.metabase().get_me());

    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let err = rt.block_on(client.metabase().get_me()).unwrap_err();
    let shown = err.to_string();
    let peak = PEAK.load(Ordering::SeqCst) - base;
    let held = CURRENT.load(Ordering::SeqCst).saturating_sub(base);

    let cap = DEFAULT_MAX_ERROR_BODY_BYTES;
    println!(
        "one hostile error: peak heap {peak} bytes ({:.2}x the {cap} byte cap), held {held} bytes, Display {} bytes, {} field errors kept, {} omitted",
        peak as f64 / cap as f64,
        shown.len(),
        err.field_errors().len(),
        err.http().unwrap().service().fields_omitted(),
    );
    assert!(peak <= 4 * cap, "peak heap {peak} > 4 x {cap}");
    assert!(shown.len() <= cap, "Display of {} bytes", shown.len());
    assert!(err.field_errors().len() <= 100);
    assert!(
        shown.ends_with("… and 988 more"),
        "the omitted errors are counted: {}",
        &shown[shown.len() - 80..]
    );
}

/// What a call holds while it waits for its answer (its future, before the attempt's own
/// boxed state): at most 640 bytes for a read of every service and for a write. A job with
/// thousands of calls in flight holds that many; it was 1,208 bytes for `get_me`.
#[test]
fn a_waiting_call_holds_at_most_640_bytes() {
    use std::mem::size_of_val;
    let client = Client::builder().base_url("http://127.0.0.1:9/").build().unwrap();
    let metabase = userapi::metabase::Metabase::new(client.clone());
    let id = userapi::metabase::UserId::new(1).unwrap();
    let new_user = userapi::metabase::NewUser::new("a@example.com");
    let novaconnect = userapi::novaconnect::NovaConnect::new(client.clone());
    let diadoc = userapi::diadoc::Diadoc::new(client.clone());
    let rounds = userapi::rounds::Rounds::new(client.clone());
    let rightech = userapi::rightech::Rightech::new(client);
    let object_id = userapi::rightech::UserId::new("0123456789abcdef01234567").unwrap();
    let sizes = [
        ("metabase get_me", size_of_val(&metabase.get_me())),
        ("metabase get_user", size_of_val(&metabase.get_user(&id))),
        (
            "metabase create_user",
            size_of_val(&metabase.create_user(&new_user)),
        ),
        ("novaconnect get_me", size_of_val(&novaconnect.get_me())),
        ("diadoc get_me", size_of_val(&diadoc.get_me())),
        ("rounds get_me", size_of_val(&rounds.get_me())),
        ("rightech get_user", size_of_val(&rightech.get_user(&object_id))),
    ];
    for (call, bytes) in sizes {
        assert!(bytes <= 640, "{call}: {bytes} bytes");
    }
}
