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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
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
    if n % 2 == 1 { samples[n / 2] } else { (samples[n / 2 - 1] + samples[n / 2]) / 2.0 }
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
        format!("{:<58} {:>12}   goal {:<10} {:<6} {}", self.name, self.value, self.goal, verdict, self.detail)
    }
}

fn today() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0) as i64;
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
    out.push_str(&format!(r#"],"total":{total},"limit":{limit},"offset":{offset}}}"#));
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
                let num = |name: &str, default: u64| req.query(name).and_then(|v| v.parse().ok()).unwrap_or(default);
                let (offset, limit) = (num("offset", 0), num("limit", 50));
                let total = self.walk_total.load(Ordering::Relaxed) as u64;
                json_response(Bytes::from(page_json(offset, limit, total)))
            }
            _ => FakeResponse::text(404, "Not found."),
        }
    }
}

const BIG_PAGE_USERS: u64 = 10_000;
