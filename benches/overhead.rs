//! What the SDK costs over hand-written `reqwest` + `serde_json`, measured in one run.
//!
//! ```sh
//! cargo bench --bench overhead                          # full run, rewrites BENCHMARKS.md
//! USERAPI_BENCH_QUICK=1 cargo bench --bench overhead    # seconds per figure, prints only
//! ```
//!
//! Harness: a plain `main` (`harness = false`). The figures are ratios of two arms that must
//! share one machine state, so the arms are interleaved call by call (or round by round) in
//! the same process; two of the figures are memory (a counting global allocator and the
//! kernel's peak RSS). Criterion and divan time one closure at a time and report absolute
//! times, so they would give neither the interleaving nor the memory figures; a hundred lines
//! of timing code here give both, with no dependency.
//!
//! Every figure talks to one loopback HTTP server (the crate's own fake-server plumbing)
//! serving Metabase's `/api/user/current` and `/api/user` with realistic bodies, so both
//! arms pay the same server and kernel costs and differ only in the client code.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use userapi::metabase::{ListUsers, Metabase, User, UserList};
use userapi::{Auth, Client};

// ---------------------------------------------------------------------------------------------
// Memory: a counting allocator (heap bytes live and their peak) and the kernel's peak RSS
// ---------------------------------------------------------------------------------------------

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now =
                    LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the heap's peak above the level at the start.
async fn heap_peak<T>(f: impl Future<Output = T>) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f.await;
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

/// Resets the kernel's peak-RSS mark (Linux: `/proc/self/clear_refs`); false where unsupported.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The kernel's peak RSS of this process since the last reset, in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

const MIB: f64 = 1024.0 * 1024.0;

// ---------------------------------------------------------------------------------------------
// Statistics and reporting
// ---------------------------------------------------------------------------------------------

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// One printed figure.
struct Figure {
    name: String,
    value: String,
    goal: String,
    met: Option<bool>,
    detail: String,
}

impl Figure {
    fn line(&self) -> String {
        let verdict = match self.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "-",
        };
        format!(
            "{:<58} {:>12}   goal {:<10} {:<6} {}",
            self.name, self.value, self.goal, verdict, self.detail
        )
    }
}

fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

// ---------------------------------------------------------------------------------------------
// The loopback server: Metabase's wire format, bodies built once or on the fly
// ---------------------------------------------------------------------------------------------

use bytes::Bytes;
use userapi::fake::{FakeRequest, FakeResponse, FakeServer, Handler};

const SESSION: &str = "3d1f2f7c-6a0e-4b8a-9c55-0d5b2f1e8a11";

/// One user as `GET /api/user` returns it to a superuser: the full admin-or-self column set.
fn user_json(id: u64) -> String {
    format!(
        concat!(
            r#"{{"id":{id},"email":"user{id}@example.com","first_name":"First{id}","last_name":"Last{id}","#,
            r#""common_name":"First{id} Last{id}","date_joined":"2024-03-01T10:15:30.123456Z","#,
            r#""last_login":"2024-03-05T08:00:01.5Z","updated_at":"2024-03-05T08:00:01.5Z","is_active":true,"#,
            r#""is_superuser":false,"is_data_analyst":false,"is_qbnewb":true,"tenant_id":null,"sso_source":null,"#,
            r#""login_attributes":{{"region":"EU","team":"t{team}"}},"jwt_attributes":null,"locale":"en_GB","#,
            r#""group_ids":[1,{group}],"personal_collection_id":{coll},"tenant_collection_id":null}}"#
        ),
        id = id,
        team = id % 97,
        group = 2 + id % 5,
        coll = id + 100
    )
}

/// `GET /api/user/current`: the user plus the fields only that endpoint returns.
fn current_json() -> String {
    let user = user_json(1);
    format!(
        concat!(
            r#"{},"attributes":{{"region":"EU"}},"is_installer":true,"has_invited_second_user":true,"#,
            r#""has_question_and_dashboard":true,"has_model":false,"first_login":"2024-03-01T10:20:00Z","#,
            r#""custom_homepage":null,"can_write_any_collection":true,"#,
            r#""permissions":{{"can_create_queries":true,"can_create_native_queries":true}}}}"#
        ),
        &user[..user.len() - 1]
    )
}

fn page_json(offset: u64, limit: u64, total: u64) -> String {
    let end = (offset + limit).min(total);
    let mut out = String::with_capacity(((end.saturating_sub(offset)) as usize) * 560 + 64);
    out.push_str(r#"{"data":["#);
    for id in offset..end {
        if id > offset {
            out.push(',');
        }
        out.push_str(&user_json(id + 1));
    }
    out.push_str(&format!(
        r#"],"total":{total},"limit":{limit},"offset":{offset}}}"#
    ));
    out
}

struct Server {
    current: Bytes,
    big_page: Bytes,
    /// `total` for the paging walk, set before each walk.
    walk_total: AtomicUsize,
    hits: AtomicUsize,
}

fn json_response(body: Bytes) -> FakeResponse {
    let mut r = FakeResponse::empty(200);
    r.headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json;charset=utf-8"),
    );
    r.body = body;
    r
}

impl Handler for Server {
    fn handle(&self, req: FakeRequest) -> FakeResponse {
        self.hits.fetch_add(1, Ordering::Relaxed);
        if req.header("x-metabase-session") != Some(SESSION) {
            return FakeResponse::text(401, "Unauthenticated");
        }
        match req.path.as_str() {
            "/api/user/current" => json_response(self.current.clone()),
            // The large page of figure 3, built once.
            "/api/user" if req.query("limit") == Some("10000") => json_response(self.big_page.clone()),
            "/api/user" => {
                let num = |name: &str, default: u64| {
                    req.query(name).and_then(|v| v.parse().ok()).unwrap_or(default)
                };
                let (offset, limit) = (num("offset", 0), num("limit", 50));
                let total = self.walk_total.load(Ordering::Relaxed) as u64;
                json_response(Bytes::from(page_json(offset, limit, total)))
            }
            _ => FakeResponse::text(404, "Not found."),
        }
    }
}

const BIG_PAGE_USERS: u64 = 10_000;

// ---------------------------------------------------------------------------------------------
// The two arms
// ---------------------------------------------------------------------------------------------

/// The hand-written baseline: what a careful user would write with reqwest and serde_json.
#[derive(Clone)]
struct Raw {
    http: reqwest::Client,
    base: String,
}

impl Raw {
    async fn get<T: serde::de::DeserializeOwned>(&self, path_and_query: &str) -> T {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header("x-metabase-session", SESSION)
            .header("accept", "application/json")
            .send()
            .await
            .expect("raw request");
        assert!(response.status().is_success());
        let body = response.bytes().await.expect("raw body");
        serde_json::from_slice(&body).expect("raw decode")
    }
}

struct Setup {
    sdk: Metabase,
    raw: Raw,
    server: Arc<Server>,
    /// Dropping it stops the server thread.
    _stop: std::sync::mpsc::Sender<()>,
}

/// Starts the server on its own thread and runtime, so that its work never queues behind the
/// client's on one scheduler (which made the latency figures swing by tens of percent).
fn setup() -> Setup {
    let server = Arc::new(Server {
        current: Bytes::from(current_json()),
        big_page: Bytes::from(page_json(0, BIG_PAGE_USERS, BIG_PAGE_USERS)),
        walk_total: AtomicUsize::new(0),
        hits: AtomicUsize::new(0),
    });
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let handler = server.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let fake = FakeServer::start(handler).await.expect("server");
            url_tx.send(fake.url("").to_string()).expect("url");
            // Serve until the bench is done.
            tokio::task::spawn_blocking(move || stop_rx.recv()).await.ok();
            drop(fake);
        });
    });
    let base = url_rx.recv().expect("server url");
    let sdk = Client::builder()
        .base_url(base.as_str())
        .auth(Auth::metabase_session(SESSION))
        .max_response_bytes(64 * 1024 * 1024)
        .build()
        .expect("client")
        .metabase();
    let raw = Raw {
        http: reqwest::Client::builder().build().expect("raw client"),
        base,
    };
    Setup {
        sdk,
        raw,
        server,
        _stop: stop_tx,
    }
}

fn quick() -> bool {
    std::env::var("USERAPI_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

// ---------------------------------------------------------------------------------------------
// The figures
// ---------------------------------------------------------------------------------------------

/// Figure 1: sequential `get_me`, the arms alternating call by call: ratio of median latencies.
async fn sequential(s: &Setup, iterations: usize) -> Figure {
    let (mut sdk, mut raw) = (Vec::with_capacity(iterations), Vec::with_capacity(iterations));
    for _ in 0..iterations / 10 {
        // Warm both pools.
        s.sdk.get_me().await.expect("sdk warm-up");
        let _: User = s.raw.get("api/user/current").await;
    }
    for i in 0..iterations {
        // Alternate which arm goes first, so neither always follows the other.
        for arm in if i % 2 == 0 { [0, 1] } else { [1, 0] } {
            let t = Instant::now();
            if arm == 0 {
                let me = s.sdk.get_me().await.expect("sdk get_me");
                std::hint::black_box(me);
                sdk.push(t.elapsed().as_secs_f64());
            } else {
                let me: User = s.raw.get("api/user/current").await;
                std::hint::black_box(me);
                raw.push(t.elapsed().as_secs_f64());
            }
        }
    }
    let (m_sdk, m_raw) = (median(&mut sdk), median(&mut raw));
    let ratio = m_sdk / m_raw;
    Figure {
        name: "1. get_me latency, SDK / raw reqwest (ratio of medians)".into(),
        value: format!("{ratio:.3}"),
        goal: "<= 1.03".into(),
        met: Some(ratio <= 1.03),
        detail: format!(
            "median {:.1} us vs {:.1} us, {iterations} calls each",
            m_sdk * 1e6,
            m_raw * 1e6
        ),
    }
}

/// Figure 2: 64 concurrent callers on one shared client, rounds of each arm interleaved: ratio of
/// median throughputs.
async fn concurrent(s: &Setup, rounds: usize, window: Duration) -> Figure {
    const CALLERS: usize = 64;
    let (mut sdk, mut raw) = (Vec::new(), Vec::new());
    // Two unrecorded rounds first: each arm opens its 64 pooled connections.
    for round in 0..rounds * 2 + 2 {
        let use_sdk = (round % 2 == 0) == (round / 2 % 2 == 0);
        let record = round >= 2;
        let done = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + window;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CALLERS {
            let (sdk_api, raw_api, done) = (s.sdk.clone(), s.raw.clone(), Arc::clone(&done));
            tasks.spawn(async move {
                while Instant::now() < deadline {
                    if use_sdk {
                        std::hint::black_box(sdk_api.get_me().await.expect("sdk get_me"));
                    } else {
                        std::hint::black_box(raw_api.get::<User>("api/user/current").await);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let started = Instant::now();
        while tasks.join_next().await.is_some() {}
        let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
        match (record, use_sdk) {
            (false, _) => {}
            (true, true) => sdk.push(rate),
            (true, false) => raw.push(rate),
        }
    }
    // The machine's speed drifts from round to round far more than the arms differ, so the
    // ratio is taken within each ABBA block of four adjacent rounds, and the median of those.
    let mut blocks: Vec<f64> = sdk
        .chunks(2)
        .zip(raw.chunks(2))
        .map(|(a, b)| a.iter().sum::<f64>() / b.iter().sum::<f64>())
        .collect();
    let ratio = median(&mut blocks);
    let (m_sdk, m_raw) = (median(&mut sdk), median(&mut raw));
    Figure {
        name: "2. 64 concurrent callers, SDK / raw throughput".into(),
        value: format!("{ratio:.3}"),
        goal: ">= 0.97".into(),
        met: Some(ratio >= 0.97),
        detail: format!(
            "median of {} ABBA blocks; rates {m_sdk:.0} vs {m_raw:.0} calls/s, {rounds} rounds of {window:?} per arm",
            rounds / 2
        ),
    }
}

/// Figure 3: a 10,000-user list page (several MB): the SDK's `list_users` against reqwest's bytes
/// plus `serde_json::from_slice` into the same `UserList`; ratio of medians, and peak heap.
async fn big_page(s: &Setup, iterations: usize) -> Vec<Figure> {
    let query = ListUsers::new().limit(BIG_PAGE_USERS);
    let path = format!("api/user?limit={BIG_PAGE_USERS}");
    let (mut sdk, mut raw) = (Vec::new(), Vec::new());
    let (mut sdk_peak, mut raw_peak) = (0usize, 0usize);
    for i in 0..iterations {
        for arm in if i % 2 == 0 { [0, 1] } else { [1, 0] } {
            let t = Instant::now();
            if arm == 0 {
                let (page, peak) = heap_peak(s.sdk.list_users(&query)).await;
                let page = page.expect("sdk list");
                sdk.push(t.elapsed().as_secs_f64());
                assert_eq!(page.data.len() as u64, BIG_PAGE_USERS);
                drop(page);
                sdk_peak = sdk_peak.max(peak);
            } else {
                let (page, peak) = heap_peak(s.raw.get::<UserList>(&path)).await;
                raw.push(t.elapsed().as_secs_f64());
                assert_eq!(page.data.len() as u64, BIG_PAGE_USERS);
                drop(page);
                raw_peak = raw_peak.max(peak);
            }
        }
    }
    let (m_sdk, m_raw) = (median(&mut sdk), median(&mut raw));
    let ratio = m_sdk / m_raw;
    let mem_ratio = sdk_peak as f64 / raw_peak as f64;
    vec![
        Figure {
            name: "3. 10,000-user page: list_users / reqwest+from_slice".into(),
            value: format!("{ratio:.3}"),
            goal: "<= 1.03".into(),
            met: Some(ratio <= 1.03),
            detail: format!(
                "median {:.1} ms vs {:.1} ms, body {:.1} MiB, {iterations} runs",
                m_sdk * 1e3,
                m_raw * 1e3,
                s.server.big_page.len() as f64 / MIB
            ),
        },
        Figure {
            name: "3. 10,000-user page: peak heap, SDK / raw".into(),
            value: format!("{mem_ratio:.3}"),
            goal: "-".into(),
            met: None,
            detail: format!(
                "{:.1} MiB vs {:.1} MiB",
                sdk_peak as f64 / MIB,
                raw_peak as f64 / MIB
            ),
        },
    ]
}

/// Walks `total` users through the paging stream; returns (peak RSS, peak heap) in bytes.
async fn walk(s: &Setup, total: usize) -> (Option<usize>, usize) {
    s.server.walk_total.store(total, Ordering::Relaxed);
    let rss_reset = reset_peak_rss();
    let (count, heap) = heap_peak(async {
        let mut stream = s.sdk.users(ListUsers::new().limit(1_000));
        let mut n = 0usize;
        while let Some(user) = stream.next().await {
            std::hint::black_box(user.expect("stream item"));
            n += 1;
        }
        n
    })
    .await;
    assert_eq!(count, total);
    (if rss_reset { peak_rss() } else { None }, heap)
}

/// Figure 4: peak memory while walking many users page by page: it must not grow with the count.
async fn paging(s: &Setup, small: usize, large: usize) -> Vec<Figure> {
    let (rss_small, heap_small) = walk(s, small).await;
    let (rss_large, heap_large) = walk(s, large).await;
    let mib = |b: Option<usize>| b.map_or("n/a".to_owned(), |b| format!("{:.1}", b as f64 / MIB));
    let flat = heap_large as f64 <= heap_small as f64 * 1.25 + 1024.0 * 1024.0;
    vec![
        Figure {
            name: format!("4. paging {large} users in pages of 1,000: peak RSS (MiB)"),
            value: mib(rss_large),
            goal: "<= 64".into(),
            met: rss_large.map(|r| r as f64 / MIB <= 64.0),
            detail: format!(
                "{} MiB for {small} users (whole process, server included)",
                mib(rss_small)
            ),
        },
        Figure {
            name: format!("4. paging: peak heap, {large} vs {small} users (MiB)"),
            value: format!("{:.1}", heap_large as f64 / MIB),
            goal: "flat".into(),
            met: Some(flat),
            detail: format!("{:.1} MiB for {small} users", heap_small as f64 / MIB),
        },
    ]
}

fn main() {
    let quick = quick();
    let s = setup();
    // The client on one thread too: the 64 concurrent callers are tasks on it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let figures = runtime.block_on(async {
        let mut figures = Vec::new();
        let (seq, rounds, window, pages, walks) = if quick {
            (300, 6, Duration::from_millis(150), 3, (10_000, 50_000))
        } else {
            (5_000, 30, Duration::from_millis(500), 30, (100_000, 1_000_000))
        };
        figures.push(sequential(&s, seq).await);
        println!("{}", figures.last().map(Figure::line).unwrap_or_default());
        figures.push(concurrent(&s, rounds, window).await);
        println!("{}", figures.last().map(Figure::line).unwrap_or_default());
        // Paging runs before the large page, so that peak RSS is not the allocator's memory
        // kept from the 5 MiB bodies.
        let walked = paging(&s, walks.0, walks.1).await;
        for f in big_page(&s, pages).await {
            println!("{}", f.line());
            figures.push(f);
        }
        for f in walked {
            println!("{}", f.line());
            figures.push(f);
        }
        println!("({} requests served)", s.server.hits.load(Ordering::Relaxed));
        figures
    });
    if quick {
        println!("quick mode: figures printed only; BENCHMARKS.md is written by a full run");
        return;
    }
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str(&format!(
        "Measured {} with `cargo bench --bench overhead` on {} ({} CPUs), loopback HTTP/1.1.\n",
        today(),
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    out.push_str("The harness and what each figure means are described in `benches/overhead.rs`.\n\n");
    out.push_str("| figure | value | goal | verdict | detail |\n|---|---|---|---|---|\n");
    for f in &figures {
        let verdict = match f.met {
            Some(true) => "met",
            Some(false) => "missed",
            None => "-",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            f.name, f.value, f.goal, verdict, f.detail
        ));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    let previous = std::fs::read_to_string(path).unwrap_or_default();
    // Keep the notes below the table (profiling, before and after) from earlier runs.
    let notes = previous.find("\n## ").map(|i| &previous[i..]).unwrap_or("");
    out.push_str(notes);
    std::fs::write(path, out).expect("write BENCHMARKS.md");
    println!("wrote {path}");
}
