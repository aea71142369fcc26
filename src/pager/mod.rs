//! The one pager every paged endpoint uses: a [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of items,
//! fetched page by page by `offset` and `limit`, with read-ahead and loop guards.
//!
//! - **Read-ahead.** Once a page has told the total, up to [`Pager::concurrency`] pages are
//!   in flight at once; without a total, the next page is fetched while the current one is
//!   consumed. Items always come out in order, nothing is fetched more than `concurrency`
//!   pages ahead of the consumer, and dropping the pager cancels what is in flight.
//! - **Decoding.** A page is decoded when the consumer reaches it, after the request for the
//!   slot it frees has gone out, so the link and the decoding overlap. This holds on a
//!   current-thread runtime too: there the pager yields once after starting a request that
//!   would otherwise wait for the consumer to run out of pages.
//! - **Loop guards.** A server that ignores paging cannot make a stream endless: a page at
//!   another offset than asked, an empty page before the total, a page whose items all came
//!   on the page before, or a page that starts with an item some earlier page started with,
//!   ends the stream with [`ErrorKind::Protocol`](crate::ErrorKind::Protocol). Offsets never overflow.
//! - **Errors.** An error on any page ends the stream after the items before it.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::auth::BoxFuture;
use crate::error::{Error, Result, Target};
use crate::http::RawResponse;

/// One page as a service answered it.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    /// Items in the whole list, when the service says.
    pub(crate) total: Option<u64>,
    /// The offset the service says this page starts at, when it echoes it.
    pub(crate) offset: Option<u64>,
    /// The request that fetched it, for errors.
    pub(crate) target: Target,
    pub(crate) status: StatusCode,
}

/// A page as it came off the wire, decoded when the consumer reaches it. Decoding in the
/// fetch itself decoded every page that had arrived in one sweep, before the requests for the
/// slots they freed went out: on a 20 ms round trip the link then idled while the client
/// decoded, and the client idled while the link carried the next batch (bench figure 5).
pub(crate) type Fetched<T> = Box<dyn FnOnce() -> Result<Page<T>> + Send>;

/// What a page's body holds, once taken out of the shape its service gives it.
#[cfg_attr(userapi_partial, allow(dead_code))]
pub(crate) struct Listing<T> {
    pub(crate) items: Vec<T>,
    pub(crate) total: Option<u64>,
    pub(crate) offset: Option<u64>,
}

impl<T> Listing<T> {
    /// A bare array: no total, no echoed offset.
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn items(items: Vec<T>) -> Self {
        Listing {
            items,
            total: None,
            offset: None,
        }
    }
}

/// A page to be decoded when the consumer reaches it: the body as `B`, then `split` into a
/// [`Listing`].
#[cfg_attr(userapi_partial, allow(dead_code))]
pub(crate) fn decode_later<B, T>(
    raw: RawResponse,
    split: impl FnOnce(B) -> Listing<T> + Send + 'static,
) -> Fetched<T>
where
    B: DeserializeOwned,
{
    Box::new(move || {
        let Listing { items, total, offset } = split(raw.json::<B>()?);
        Ok(Page {
            items,
            total,
            offset,
            target: raw.target().clone(),
            status: raw.status,
        })
    })
}

/// Fetches the page at `offset` with `limit` items (the request and the body; the decoding is
/// left in the [`Fetched`] it returns).
pub(crate) type Fetch<T> = Arc<dyn Fn(u64, u64) -> BoxFuture<'static, Result<Fetched<T>>> + Send + Sync>;

/// Pages in flight at once by default, once the total is known: six, the connections per host
/// that browsers open and servers are provisioned for. Measured with `cargo bench --bench
/// overhead`, figure 5 (100 pages of 1,000 users at a 20 ms round trip, against a sequential
/// loop; the goal is 0.25): six gives 0.18–0.19 of the loop's time, close to the 1/6 that
/// six round trips at once allow. More pages in flight go faster still (one walk each: four
/// 0.26, eight 0.15, sixteen 0.11), at more load on the server.
pub const DEFAULT_CONCURRENCY: usize = 6;

/// The waker the fetches in flight are polled with. A wake from any of them marks the pager
/// as having work and wakes the consumer's task, so that the pager polls its fetches when one
/// of them has progressed rather than once per item the consumer takes.
struct Relay {
    woken: AtomicBool,
    /// The task that polls the pager.
    task: Mutex<Option<Waker>>,
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if let Some(task) = &*self.task.lock().unwrap_or_else(|e| e.into_inner()) {
            task.wake_by_ref();
        }
    }
}

struct Slot<T> {
    offset: u64,
    fetch: Option<BoxFuture<'static, Result<Fetched<T>>>>,
    done: Option<Result<Fetched<T>>>,
}

/// Every item of a paged list; see the module docs of [`pager`](crate::pager) for the rules.
///
/// Use it as a [`futures_core::Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) (with `futures::StreamExt` or `tokio_stream`), or
/// with the inherent [`next`](Self::next) and [`next_page`](Self::next_page), which need no
/// extra crate.
#[must_use = "a pager does nothing unless polled"]
pub struct Pager<T> {
    fetch: Fetch<T>,
    /// An identity for each item, for the loop guards.
    key: fn(&T) -> u64,
    page_size: u64,
    /// The offset of the next page to request; `None` once no further offset exists.
    next_offset: Option<u64>,
    total: Option<u64>,
    concurrency: usize,
    in_flight: VecDeque<Slot<T>>,
    buffer: VecDeque<T>,
    /// The keys of the last page taken, and the first key of every page so far.
    last_keys: HashSet<u64>,
    first_keys: HashSet<u64>,
    /// No page is asked for beyond the one that ended the list.
    exhausted: bool,
    /// Nothing more will be yielded, not even buffered items (after an error).
    finished: bool,
    pending_error: Option<Error>,
    /// The page taken off the front, to be decoded once the request for its slot is out.
    taken: Option<(u64, Result<Fetched<T>>)>,
    relay: Arc<Relay>,
    /// `relay` as a waker, made once.
    relay_waker: Waker,
    /// The consumer's waker last handed to `relay`.
    task: Option<Waker>,
}

impl<T> fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("page_size", &self.page_size)
            .field("next_offset", &self.next_offset)
            .field("total", &self.total)
            .field("concurrency", &self.concurrency)
            .field("in_flight", &self.in_flight.len())
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Pager<T> {
    #[cfg_attr(userapi_partial, allow(dead_code))]
    pub(crate) fn new(fetch: Fetch<T>, key: fn(&T) -> u64, start: u64, page_size: u64) -> Self {
        let relay = Arc::new(Relay {
            woken: AtomicBool::new(true),
            task: Mutex::new(None),
        });
        Pager {
            fetch,
            key,
            page_size: page_size.max(1),
            next_offset: Some(start),
            total: None,
            concurrency: DEFAULT_CONCURRENCY,
            in_flight: VecDeque::new(),
            buffer: VecDeque::new(),
            last_keys: HashSet::new(),
            first_keys: HashSet::new(),
            exhausted: false,
            finished: false,
            pending_error: None,
            taken: None,
            relay: Arc::clone(&relay),
            relay_waker: Waker::from(relay),
            task: None,
        }
    }

    /// At most `n` pages in flight at once (at least 1; default [`DEFAULT_CONCURRENCY`]).
    /// `1` fetches strictly one page after another, with no read-ahead.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The number of items in the whole list, once a page has said it.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The next item, or `None` at the end: the same as the `Stream`, without an extra crate.
    ///
    /// # Errors
    /// `Some(Err(..))` once, for the first page that failed (any error of the call, or
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for a server whose paging does not
    /// advance); after it the pager yields `None`.
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// The rest of the current page, or the whole next page; `None` at the end.
    ///
    /// # Errors
    /// `Some(Err(..))` once, for the first page that failed (any error of the call, or
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for a server whose paging does not
    /// advance); after it the pager yields `None`.
    pub async fn next_page(&mut self) -> Option<Result<Vec<T>>> {
        std::future::poll_fn(|cx| {
            let buffered = self.poll_buffered(cx);
            // The page's own `Vec`, handed over whole when nothing was taken from it yet.
            buffered.map(|o| o.map(|r| r.map(|()| Vec::from(std::mem::take(&mut self.buffer)))))
        })
        .await
    }

    /// Every remaining item in one `Vec`: convenient for short lists, all in memory.
    ///
    /// # Errors
    /// The first error any page met.
    pub async fn try_collect(mut self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(page) = self.next_page().await {
            out.extend(page?);
        }
        Ok(out)
    }

    /// Starts fetches until `concurrency` pages are in flight, or (without a total) one
    /// page ahead, within the list. True if it started any.
    fn fill(&mut self) -> bool {
        if self.exhausted || self.finished {
            return false;
        }
        // Strictly one page after another: fetch only when the consumer has nothing left.
        if self.concurrency == 1 && !self.buffer.is_empty() {
            return false;
        }
        // Without a total, one page ahead of the consumer; with one, `concurrency` pages.
        let ahead = match self.total {
            Some(_) => self.concurrency,
            None => 1,
        };
        let mut started = false;
        while self.in_flight.len() < ahead {
            let Some(offset) = self.next_offset else { break };
            if self.total.is_some_and(|total| offset >= total) {
                break;
            }
            self.next_offset = offset.checked_add(self.page_size);
            self.in_flight.push_back(Slot {
                offset,
                fetch: Some((self.fetch)(offset, self.page_size)),
                done: None,
            });
            started = true;
        }
        started
    }

    /// Starts what [`fill`](Self::fill) allows, and polls the fetches if that started any or
    /// one of them was woken. True if the caller should yield once before going on.
    ///
    /// A request handed to reqwest goes on the wire when its connection task runs, and on a
    /// current-thread runtime that is only when this task yields. A consumer that finds its
    /// next items already here would otherwise decode page after page while the requests
    /// for the slots they freed wait in the client (bench figure 5 lost a third of its read-
    /// ahead that way). So after starting a request the pager yields once, if the consumer
    /// could otherwise go on without waiting: items buffered, or the next page arrived.
    fn progress(&mut self) -> bool {
        let started = self.fill();
        if started || self.relay.woken.swap(false, Ordering::AcqRel) {
            self.poll_in_flight();
        }
        started && (!self.buffer.is_empty() || self.in_flight.front().is_some_and(|s| s.done.is_some()))
    }

    /// Yields to the runtime once: wakes this task and answers `Pending`.
    fn yield_once<R>(cx: &mut Context<'_>) -> Poll<R> {
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.poll_buffered(cx)
            .map(|o| o.and_then(|r| r.map_or_else(|e| Some(Err(e)), |()| self.buffer.pop_front().map(Ok))))
    }

    /// Ready with `Ok` once items are buffered, with the error that ended the list, or with
    /// `None` at its end.
    fn poll_buffered(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<()>>> {
        loop {
            if self.finished {
                return Poll::Ready(self.pending_error.take().map(Err));
            }
            if let Some((asked, result)) = self.taken.take() {
                // Decoded now, when the consumer needs it.
                if let Err(e) = result
                    .and_then(|decode| decode())
                    .and_then(|page| self.take(page, asked))
                {
                    self.finish();
                    return Poll::Ready(Some(Err(e)));
                }
            }
            if self.progress() {
                return Self::yield_once(cx);
            }
            if !self.buffer.is_empty() {
                return Poll::Ready(Some(Ok(())));
            }
            let Some(front) = self.in_flight.front_mut() else {
                return Poll::Ready(None);
            };
            let Some(result) = front.done.take() else {
                self.watch(cx);
                return Poll::Pending;
            };
            let asked = front.offset;
            self.in_flight.pop_front();
            self.taken = Some((asked, result));
            // The slot this page held is free. Once the total is known, the request that takes
            // it goes out before the page is decoded, so that it crosses the link meanwhile
            // (with `concurrency(1)` nothing is read ahead; before the total, only the first
            // page can say whether there is a second).
            if self.total.is_some() && self.concurrency > 1 && self.progress() {
                return Self::yield_once(cx);
            }
        }
    }

    /// Before answering `Pending`: makes sure a wake from a fetch reaches the task polling
    /// now, and polls again if one came in the meantime.
    fn watch(&mut self, cx: &mut Context<'_>) {
        if !self.task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
            let task = cx.waker().clone();
            *self.relay.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.clone());
            self.task = Some(task);
            // A wake that came before the new waker was in place went to the old one.
            if self.relay.woken.load(Ordering::Acquire) {
                cx.waker().wake_by_ref();
            }
        }
    }

    /// Polls every fetch in flight with the relay's waker, so that they progress together.
    fn poll_in_flight(&mut self) {
        let mut cx = Context::from_waker(&self.relay_waker);
        for slot in &mut self.in_flight {
            if let Some(fetch) = &mut slot.fetch
                && let Poll::Ready(result) = fetch.as_mut().poll(&mut cx)
            {
                slot.fetch = None;
                slot.done = Some(result);
            }
        }
    }

    /// Ends the stream: drops (cancels) everything in flight.
    fn finish(&mut self) {
        self.finished = true;
        self.exhausted = true;
        self.in_flight.clear();
        self.buffer.clear();
    }

    /// Checks a page against the loop guards and buffers its items.
    fn take(&mut self, page: Page<T>, asked: u64) -> Result<()> {
        let protocol = |message: String| Error::protocol(&page.target, Some(page.status), message);
        if let Some(offset) = page.offset
            && offset != asked
        {
            return Err(protocol(format!(
                "asked for offset {asked}, the server answered offset {offset}: it does not page"
            )));
        }
        if self.total.is_none() {
            self.total = page.total;
        }
        let n = page.items.len() as u64;
        let keys: HashSet<u64> = page.items.iter().map(self.key).collect();
        if let Some(first) = page.items.first().map(self.key) {
            if !self.last_keys.is_empty() && keys.iter().all(|k| self.last_keys.contains(k)) {
                return Err(protocol(format!(
                    "the page at offset {asked} repeats the page before it: the server ignores paging"
                )));
            }
            if !self.first_keys.insert(first) {
                return Err(protocol(format!(
                    "the page at offset {asked} starts where an earlier page started: the server ignores paging"
                )));
            }
        }
        let first_page = self.last_keys.is_empty();
        self.last_keys = keys;
        let end = asked.saturating_add(n);
        match self.total {
            _ if n > self.page_size => {
                // More than asked for: the server ignored `limit`. On the first page with
                // no other page in flight, that is the whole list; anywhere else it is not paging.
                if !first_page {
                    return Err(protocol(format!(
                        "asked for {} items at offset {asked}, the server answered {n}: it does not page",
                        self.page_size
                    )));
                }
                self.exhaust();
            }
            Some(total) if n == 0 && asked < total => {
                return Err(protocol(format!(
                    "the server answered an empty page at offset {asked} before its total of {total}"
                )));
            }
            Some(total) if end >= total => self.exhaust(),
            Some(_) if n < self.page_size => {
                // A short page before the total: the list shrank while it was read. Carry on
                // from where this page ended rather than skip what moved into the gap.
                self.in_flight.clear();
                self.next_offset = Some(end);
            }
            None if n < self.page_size => self.exhaust(),
            _ => {}
        }
        if self.next_offset.is_none() {
            // No further offset can be asked for.
            self.exhausted = true;
        }
        if self.buffer.is_empty() {
            // The page's `Vec` becomes the buffer as it is: no copy.
            self.buffer = VecDeque::from(page.items);
        } else {
            self.buffer.extend(page.items);
        }
        Ok(())
    }

    fn exhaust(&mut self) {
        self.exhausted = true;
        self.in_flight.clear();
    }
}

impl<T: Send + 'static> futures_core::Stream for Pager<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.get_mut().poll_item(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.buffer.len();
        if self.finished || (self.exhausted && self.in_flight.is_empty()) {
            return (buffered, Some(buffered));
        }
        (buffered, None)
    }
}

// The pager holds only `Send` futures and items, and no self-references.
impl<T> Unpin for Pager<T> {}

#[cfg(test)]
mod tests;
