//! The pager's rules, on fetches made up in the test.

use super::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn target() -> Target {
    Target::new(reqwest::Method::GET, "/items", "/items")
}

/// The page at `offset` of the numbers `0..len`, with the total and the offset echoed.
fn numbers(offset: u64, limit: u64, len: u64) -> Page<u64> {
    Page {
        items: (offset..(offset + limit).min(len)).collect(),
        total: Some(len),
        offset: Some(offset),
        target: target(),
        status: StatusCode::OK,
    }
}

/// The numbers `0..len`, telling `on_fetch` the page number as a fetch starts and showing
/// `on_decode` each page as it is decoded.
fn hooked(
    len: u64,
    on_fetch: impl Fn(u64) + Send + Sync + 'static,
    on_decode: impl Fn(&Page<u64>) + Send + Sync + 'static,
) -> Fetch<u64> {
    let hooks = Arc::new((on_fetch, on_decode));
    Arc::new(move |offset, limit| {
        let hooks = Arc::clone(&hooks);
        Box::pin(async move {
            (hooks.0)(offset / limit);
            tokio::task::yield_now().await;
            let decode = move || {
                let page = numbers(offset, limit, len);
                (hooks.1)(&page);
                Ok(page)
            };
            Ok(Box::new(decode) as Fetched<u64>)
        })
    })
}

/// A page the fetch hands over as it is.
fn decoded(page: Page<u64>) -> Result<Fetched<u64>> {
    Ok(Box::new(move || Ok(page)))
}

/// A list of `len` numbers served by a function of (offset, limit) → (items, total, echoed offset).
fn pager_over(
    serve: impl Fn(u64, u64) -> (Vec<u64>, Option<u64>, Option<u64>) + Send + Sync + 'static,
    asked: Arc<Mutex<Vec<u64>>>,
    page_size: u64,
    start: u64,
) -> Pager<u64> {
    let fetch: Fetch<u64> = Arc::new(move |offset, limit| {
        asked.lock().unwrap().push(offset);
        let (items, total, echoed) = serve(offset, limit);
        Box::pin(async move {
            tokio::task::yield_now().await;
            decoded(Page {
                items,
                total,
                offset: echoed,
                target: target(),
                status: StatusCode::OK,
            })
        })
    });
    Pager::new(fetch, |n| *n, start, page_size)
}

fn honest(len: u64, with_total: bool) -> impl Fn(u64, u64) -> (Vec<u64>, Option<u64>, Option<u64>) {
    move |offset, limit| {
        let end = offset.saturating_add(limit).min(len);
        let items = (offset.min(len)..end).collect();
        (items, with_total.then_some(len), Some(offset))
    }
}

async fn drain(mut p: Pager<u64>) -> (Vec<u64>, Option<Error>) {
    let mut items = Vec::new();
    while let Some(item) = p.next().await {
        match item {
            Ok(i) => items.push(i),
            Err(e) => return (items, Some(e)),
        }
    }
    (items, None)
}

#[tokio::test]
async fn items_come_in_order_with_and_without_a_total() {
    for with_total in [true, false] {
        for (len, size, conc) in [
            (0, 10, 4),
            (1, 10, 4),
            (10, 10, 4),
            (95, 10, 4),
            (95, 10, 1),
            (100, 7, 3),
        ] {
            let asked = Arc::new(Mutex::new(Vec::new()));
            let p = pager_over(honest(len, with_total), Arc::clone(&asked), size, 0).concurrency(conc);
            let (items, err) = drain(p).await;
            assert!(err.is_none(), "{err:?}");
            assert_eq!(
                items,
                (0..len).collect::<Vec<_>>(),
                "len {len} size {size} total {with_total}"
            );
            let asked = asked.lock().unwrap().clone();
            let mut sorted = asked.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), asked.len(), "no page asked twice: {asked:?}");
            // With a total, no page past it is asked for; without, at most one.
            let past = asked.iter().filter(|&&o| o >= len).count();
            assert!(past <= usize::from(!with_total || len == 0), "{asked:?}");
        }
    }
}

#[tokio::test]
async fn read_ahead_is_bounded_by_the_concurrency() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (f, m) = (Arc::clone(&in_flight), Arc::clone(&most));
    let fetch: Fetch<u64> = Arc::new(move |offset, limit| {
        let (f, m) = (Arc::clone(&f), Arc::clone(&m));
        Box::pin(async move {
            let now = f.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            f.fetch_sub(1, Ordering::SeqCst);
            decoded(numbers(offset, limit, 1000))
        })
    });
    let p = Pager::new(fetch, |n| *n, 0, 10).concurrency(3);
    let (items, err) = drain(p).await;
    assert!(err.is_none());
    assert_eq!(items.len(), 1000);
    assert_eq!(most.load(Ordering::SeqCst), 3);
}

/// A page is decoded when the consumer reaches it, and the request for the slot it freed
/// goes out before the next page is decoded (decoding every arrived page first left the
/// link idle meanwhile).
#[tokio::test]
async fn pages_are_decoded_one_at_a_time_and_each_slot_is_refilled_before_its_page_is_decoded() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (l, m) = (Arc::clone(&log), Arc::clone(&log));
    let fetch = hooked(
        100,
        move |page| l.lock().unwrap().push(format!("fetch {page}")),
        move |decoded| {
            let page = decoded.offset.unwrap() / 10;
            m.lock().unwrap().push(format!("decode {page}"));
        },
    );
    let (items, err) = drain(Pager::new(fetch, |n| *n, 0, 10).concurrency(3)).await;
    assert!(err.is_none());
    assert_eq!(items, (0..100).collect::<Vec<_>>());
    let log = log.lock().unwrap().clone();
    let at = |event: String| log.iter().position(|e| *e == event).unwrap();
    for page in 0..10 {
        assert_eq!(
            log.iter().filter(|e| **e == format!("decode {page}")).count(),
            1,
            "{log:?}"
        );
    }
    // Once the total is known, the request that takes a freed slot goes out before the
    // page that freed it is decoded.
    for page in 1..7 {
        assert!(
            at(format!("fetch {}", page + 3)) < at(format!("decode {page}")),
            "page {page}: {log:?}"
        );
    }
    // The first page says the total: nothing is asked for beyond it before it is decoded.
    assert!(at("decode 0".into()) < at("fetch 1".into()), "{log:?}");
}

// `concurrency(1)` reads nothing ahead: the next page is asked for only once the
// consumer has taken every item of the one before.
#[tokio::test]
async fn concurrency_one_asks_for_a_page_only_when_the_one_before_is_used_up() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let fetch: Fetch<u64> = Arc::new(move |offset, limit| {
        l.lock().unwrap().push(format!("fetch {offset}"));
        Box::pin(async move {
            tokio::task::yield_now().await;
            decoded(numbers(offset, limit, 30))
        })
    });
    let mut pager = Pager::new(fetch, |n| *n, 0, 10).concurrency(1);
    while let Some(item) = pager.next().await {
        log.lock().unwrap().push(format!("item {}", item.unwrap()));
    }
    let log = log.lock().unwrap().clone();
    let at = |event: &str| log.iter().position(|e| e == event).unwrap();
    assert!(at("item 9") < at("fetch 10"), "{log:?}");
    assert!(at("item 19") < at("fetch 20"), "{log:?}");
    assert_eq!(
        log.iter().filter(|e| e.starts_with("fetch")).count(),
        3,
        "{log:?}"
    );
}

// `next_page` hands over the `Vec` the page was decoded into: a page of a thousand users
// is half a megabyte, and each copy of it cost as much as a tenth of its decoding.
#[tokio::test]
async fn next_page_hands_over_the_decoded_vec_without_a_copy() {
    let made = Arc::new(Mutex::new(Vec::new()));
    let m = Arc::clone(&made);
    let fetch = hooked(
        50,
        |_| {},
        move |page| m.lock().unwrap().push(page.items.as_ptr() as usize),
    );
    let mut pager = Pager::new(fetch, |n| *n, 0, 10).concurrency(2);
    let mut handed = Vec::new();
    while let Some(page) = pager.next_page().await {
        let page = page.unwrap();
        assert_eq!(page.len(), 10);
        handed.push(page.as_ptr() as usize);
    }
    assert_eq!(handed, *made.lock().unwrap());
}

/// Pages served by a task of their own, as reqwest's connection tasks serve requests:
/// the fetch hands its offset over and waits for the answer. Logs `wire n` when the
/// "connection" takes page n's request and `decode n` when the pager decodes it.
fn served_by_a_task(log: Arc<Mutex<Vec<String>>>, len: u64) -> Fetch<u64> {
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(u64, u64, tokio::sync::oneshot::Sender<u64>)>();
    let l = Arc::clone(&log);
    tokio::spawn(async move {
        while let Some((offset, limit, reply)) = rx.recv().await {
            l.lock().unwrap().push(format!("wire {}", offset / limit));
            let _ = reply.send(offset);
        }
    });
    Arc::new(move |offset, limit| {
        let (tx, l) = (tx.clone(), Arc::clone(&log));
        Box::pin(async move {
            let (reply, answer) = tokio::sync::oneshot::channel();
            tx.send((offset, limit, reply)).unwrap();
            let offset = answer.await.unwrap();
            let decode = move || {
                l.lock().unwrap().push(format!("decode {}", offset / limit));
                Ok(numbers(offset, limit, len))
            };
            Ok(Box::new(decode) as Fetched<u64>)
        })
    })
}

// On a current-thread runtime the connection tasks run only when the consumer's task
// yields. A consumer that finds every page ready would decode page after page and leave
// the requests for the freed slots queued in the client until it caught up.
#[tokio::test(flavor = "current_thread")]
async fn requests_for_freed_slots_reach_the_connection_before_the_page_is_decoded() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let fetch = served_by_a_task(Arc::clone(&log), 100);
    let (items, err) = drain(Pager::new(fetch, |n| *n, 0, 10).concurrency(3)).await;
    assert!(err.is_none());
    assert_eq!(items, (0..100).collect::<Vec<_>>());
    let log = log.lock().unwrap().clone();
    let at = |event: String| log.iter().position(|e| *e == event).unwrap();
    for page in 1..7 {
        assert!(
            at(format!("wire {}", page + 3)) < at(format!("decode {page}")),
            "page {page}: {log:?}"
        );
    }
    assert_eq!(
        log.iter().filter(|e| e.starts_with("wire")).count(),
        10,
        "{log:?}"
    );
}

// The first page tells the total: the read-ahead it allows reaches the connection before
// the consumer gets that page's first item, not once the consumer has used the page up.
#[tokio::test(flavor = "current_thread")]
async fn the_read_ahead_reaches_the_connection_before_the_first_item() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let fetch = served_by_a_task(Arc::clone(&log), 100);
    let mut pager = Pager::new(fetch, |n| *n, 0, 10).concurrency(3);
    let first = pager.next().await.unwrap().unwrap();
    log.lock().unwrap().push(format!("item {first}"));
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        ["wire 0", "decode 0", "wire 1", "wire 2", "wire 3", "item 0"],
        "{log:?}"
    );
}

// Polling every fetch for every item cost more than decoding the page (bench figure 5):
// a fetch is polled again only when it has been woken.
#[tokio::test(flavor = "current_thread")]
async fn fetches_are_polled_when_woken_not_once_per_item() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&polls);
    let fetch: Fetch<u64> = Arc::new(move |offset, limit| {
        let p = Arc::clone(&p);
        let mut sleep = Box::pin(tokio::time::sleep(std::time::Duration::from_millis(5)));
        Box::pin(std::future::poll_fn(move |cx| {
            p.fetch_add(1, Ordering::Relaxed);
            sleep
                .as_mut()
                .poll(cx)
                .map(|()| decoded(numbers(offset, limit, 10_000)))
        }))
    });
    let (items, err) = drain(Pager::new(fetch, |n| *n, 0, 1_000).concurrency(4)).await;
    assert!(err.is_none());
    assert_eq!(items.len(), 10_000);
    // Ten fetches, each polled when started and when its timer fires, and a few times
    // more for other fetches' wakes: far from one poll per item per fetch (about 40,000).
    let polls = polls.load(Ordering::Relaxed);
    assert!(polls <= 100, "{polls} polls for 10 fetches");
}

#[tokio::test]
async fn a_server_that_ignores_offset_ends_the_stream() {
    // Full pages, no total, no echoed offset: always the first page.
    let asked = Arc::new(Mutex::new(Vec::new()));
    let p = pager_over(
        |_, limit| ((0..limit).collect(), None, None),
        Arc::clone(&asked),
        100,
        0,
    );
    let (items, err) = drain(p).await;
    let err = err.expect("a protocol error");
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("ignores paging"), "{err}");
    assert_eq!(items.len(), 100, "the first page, then the error");
    assert!(asked.lock().unwrap().len() <= 3);

    // With a total and an echoed offset that is wrong.
    let p = pager_over(
        |_, limit| ((0..limit).collect(), Some(1000), Some(0)),
        Arc::default(),
        100,
        0,
    );
    let (items, err) = drain(p).await;
    assert!(err.unwrap().to_string().contains("answered offset 0"));
    assert_eq!(items.len(), 100);

    // Pages A, B, A, B, … with no total.
    let p = pager_over(
        |offset, limit| {
            let base = (offset / limit % 2) * limit;
            ((base..base + limit).collect(), None, None)
        },
        Arc::default(),
        10,
        0,
    );
    let (items, err) = drain(p).await;
    assert!(err.unwrap().to_string().contains("earlier page started"));
    assert_eq!(items.len(), 20);
}

#[tokio::test]
async fn an_empty_page_before_the_total_is_an_error() {
    let p = pager_over(
        |offset, limit| {
            let items = if offset == 0 {
                (0..limit).collect()
            } else {
                Vec::new()
            };
            (items, Some(50), Some(offset))
        },
        Arc::default(),
        10,
        0,
    );
    let (items, err) = drain(p).await;
    assert_eq!(items.len(), 10);
    assert!(err.unwrap().to_string().contains("empty page at offset 10"));
}

#[tokio::test]
async fn more_than_asked_on_the_first_page_is_the_whole_list() {
    let p = pager_over(|_, _| ((0..250).collect(), None, None), Arc::default(), 100, 0);
    let (items, err) = drain(p).await;
    assert!(err.is_none());
    assert_eq!(items.len(), 250);
}

#[tokio::test]
async fn offsets_near_u64_max_never_overflow() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let p = pager_over(
        |_, limit| ((0..limit).collect(), None, None),
        Arc::clone(&asked),
        100,
        u64::MAX - 5,
    );
    let (items, err) = drain(p).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items.len(), 100, "one page, then no further offset exists");
    assert_eq!(*asked.lock().unwrap(), [u64::MAX - 5]);
    let p = pager_over(honest(10, true), Arc::default(), u64::MAX, u64::MAX);
    let (_, err) = drain(p).await;
    assert!(err.is_none());
}

#[tokio::test]
async fn an_error_ends_the_stream_after_the_items_before_it() {
    let fetch: Fetch<u64> = Arc::new(|offset, limit| {
        Box::pin(async move {
            if offset == 20 {
                return Err(Error::config(crate::ConfigKind::Runtime, "boom"));
            }
            decoded(Page {
                items: (offset..offset + limit).collect(),
                total: Some(100),
                offset: Some(offset),
                target: target(),
                status: StatusCode::OK,
            })
        })
    });
    let (items, err) = drain(Pager::new(fetch, |n| *n, 0, 10)).await;
    assert_eq!(items, (0..20).collect::<Vec<_>>());
    assert!(err.unwrap().to_string().contains("boom"));
}

#[tokio::test]
async fn next_page_gives_whole_pages() {
    let mut p = pager_over(honest(25, false), Arc::default(), 10, 0);
    let mut sizes = Vec::new();
    while let Some(page) = p.next_page().await {
        sizes.push(page.unwrap().len());
    }
    assert_eq!(sizes, [10, 10, 5]);
    let all = pager_over(honest(25, true), Arc::default(), 10, 0)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, (0..25).collect::<Vec<_>>());
}
