use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::*;

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

fn limiter(rate: Option<RateLimit>, in_flight: Option<u32>) -> Arc<Limiter> {
    Arc::new(Limiter::new(rate, in_flight).unwrap().unwrap())
}

/// When each of `arrivals` (offsets from the start) was let through.
async fn admitted_at(limiter: Arc<Limiter>, arrivals: Vec<Duration>) -> Vec<Duration> {
    let start = Instant::now();
    let tasks: Vec<_> = arrivals
        .into_iter()
        .map(|at| {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                tokio::time::sleep(at).await;
                drop(limiter.admit().await);
                start.elapsed()
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in tasks {
        times.push(t.await.unwrap());
    }
    times.sort();
    times
}

/// The most requests in any window, over what `burst + rate × window` allows.
fn worst_excess(times: &[Duration], rate: f64, burst: f64) -> f64 {
    let mut worst = f64::MIN;
    for i in 0..times.len() {
        for j in i..times.len() {
            let window = (times[j] - times[i]).as_secs_f64();
            let count = (j - i + 1) as f64;
            worst = worst.max(count - (burst + rate * window));
        }
    }
    worst
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No more than `burst + rate × t` requests in any window `t`, whatever the arrivals.
    #[test]
    fn never_more_than_burst_plus_rate_times_t(
        requests in 1u32..200,
        burst in 1u32..20,
        arrivals in proptest::collection::vec(0u64..3_000, 1..60),
    ) {
        let rate = f64::from(requests);
        let arrivals: Vec<Duration> = arrivals.into_iter().map(Duration::from_millis).collect();
        let n = arrivals.len();
        let times = paused().block_on(admitted_at(
            limiter(Some(RateLimit::per_second(requests).burst(burst)), None),
            arrivals,
        ));
        prop_assert_eq!(times.len(), n);
        prop_assert!(worst_excess(&times, rate, f64::from(burst)) <= 1e-6, "{times:?}");
    }
}

#[test]
fn a_full_queue_is_served_at_the_rate() {
    // 50 at once at 10 per second, burst 5: 5 at once, then one every 100 ms.
    let times = paused().block_on(admitted_at(
        limiter(Some(RateLimit::per_second(10).burst(5)), None),
        vec![Duration::ZERO; 50],
    ));
    assert_eq!(times[..5], [Duration::ZERO; 5]);
    let last = times[49].as_secs_f64();
    assert!((4.5..4.55).contains(&last), "{last}");
}

#[test]
fn a_waiter_dropped_while_it_sleeps_gives_its_turn_back() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::per_second(1)), None);
        let start = Instant::now();
        drop(limiter.admit().await);
        // B waits for the next token (at 1 s), and gives up at 0.5 s.
        let b = tokio::time::timeout(Duration::from_millis(500), limiter.admit()).await;
        assert!(b.is_err());
        // C, arriving later, gets the token B would have had, at 1 s and not at 2 s.
        drop(limiter.admit().await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    });
}

#[test]
fn a_waiter_dropped_in_the_queue_gives_its_place_back() {
    paused().block_on(async {
        let limiter = limiter(None, Some(1));
        let held = limiter.admit().await;
        let waiting = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move { drop(limiter.admit().await) }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        waiting.abort();
        let _ = waiting.await;
        drop(held);
        // The place is free again: no permit leaked to the aborted waiter.
        let again = tokio::time::timeout(Duration::from_millis(1), limiter.admit()).await;
        assert!(again.is_ok());
    });
}

#[test]
fn in_flight_is_capped_and_the_place_is_held_until_the_admission_drops() {
    paused().block_on(async {
        let limiter = limiter(None, Some(2));
        let a = limiter.admit().await;
        let _b = limiter.admit().await;
        assert!(
            tokio::time::timeout(Duration::from_secs(5), limiter.admit())
                .await
                .is_err()
        );
        drop(a);
        let c = tokio::time::timeout(Duration::from_millis(1), limiter.admit()).await;
        assert!(c.is_ok());
    });
}

#[test]
fn the_wait_is_reported() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::per_second(4)), None);
        assert_eq!(limiter.admit().await.waited, Duration::ZERO);
        assert_eq!(limiter.admit().await.waited, Duration::from_millis(250));
    });
}

#[test]
fn nonsense_numbers_are_refused_and_extremes_do_not_panic() {
    for bad in [
        RateLimit::per_second(0),
        RateLimit::new(1, Duration::ZERO),
        RateLimit::new(1, Duration::MAX),
        RateLimit::new(1, Duration::from_secs(24 * 3600 + 1)),
        RateLimit::per_second(1).burst(0),
    ] {
        let err = Limiter::new(Some(bad), None).err().expect("refused");
        assert!(err.is_config(), "{err}");
    }
    assert!(Limiter::new(None, Some(0)).is_err());
    assert!(Limiter::new(None, None).unwrap().is_none());
    paused().block_on(async {
        // The largest numbers: as good as no limit, and no overflow.
        let huge = limiter(
            Some(RateLimit::per_second(u32::MAX).burst(u32::MAX)),
            Some(u32::MAX),
        );
        for _ in 0..1000 {
            assert_eq!(huge.admit().await.waited, Duration::ZERO);
        }
        // The slowest rate allowed: one a day; the second waits a day, not forever.
        let slow = limiter(Some(RateLimit::new(1, Duration::from_secs(24 * 3600))), None);
        drop(slow.admit().await);
        assert_eq!(slow.admit().await.waited, Duration::from_secs(24 * 3600));
    });
}

#[test]
fn adaptive_is_free_until_refused_then_takes_the_accepted_rate_and_grows_back() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::adaptive()), None);
        assert_eq!(limiter.current_rate(), None);
        // 100 successes over 1 s: the server accepts 100 per second.
        for _ in 0..100 {
            drop(limiter.admit().await);
            limiter.feedback(false);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        limiter.feedback(true);
        let cut = limiter.current_rate().expect("limited after a refusal");
        // Nine tenths of the 100 per second the server accepted.
        assert!((85.0..=95.0).contains(&cut), "{cut}");
        // More refusals from the same overload do not cut again.
        limiter.feedback(true);
        assert!((limiter.current_rate().unwrap() - cut).abs() < 1e-9);
        // Ten quiet seconds: 5% of the rate per second back.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let grown = limiter.current_rate().unwrap();
        assert!((grown - cut * 1.5).abs() < 1e-6, "{grown}");
        // A fixed limiter ignores the server.
        let fixed = self::limiter(Some(RateLimit::per_second(7)), None);
        fixed.feedback(true);
        assert_eq!(fixed.current_rate(), Some(7.0));
    });
}

#[test]
fn the_default_burst_is_a_twentieth_of_a_second_at_least_one() {
    let burst = |r: RateLimit| match r {
        RateLimit::Fixed { burst, .. } => burst,
        RateLimit::Adaptive => unreachable!(),
    };
    assert_eq!(burst(RateLimit::per_second(500)), 25);
    assert_eq!(burst(RateLimit::per_second(100)), 5);
    assert_eq!(burst(RateLimit::per_second(10)), 1);
    assert_eq!(burst(RateLimit::new(600, Duration::from_secs(60))), 1);
    assert_eq!(burst(RateLimit::per_second(u32::MAX)), u32::MAX / 20);
    assert_eq!(burst(RateLimit::per_second(500).burst(3)), 3);
    // A zero period is refused by build(), not divided by.
    assert_eq!(burst(RateLimit::new(5, Duration::ZERO)), 1);
}

#[test]
fn a_token_and_a_place_at_hand_admit_at_once_and_the_queue_leaves_nothing_behind() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::per_second(1).burst(2)), Some(1));
        let a = limiter
            .try_admit(Instant::now())
            .expect("a token and a place at hand");
        assert_eq!(a.waited, Duration::ZERO);
        assert!(
            limiter.try_admit(Instant::now()).is_none(),
            "the one place is taken"
        );
        drop(a);
        drop(
            limiter
                .try_admit(Instant::now())
                .expect("the second token of the burst"),
        );
        assert!(limiter.try_admit(Instant::now()).is_none(), "no token left");
        // Through the queue: the next token comes a second later.
        let c = limiter.admit().await;
        assert_eq!(c.waited, Duration::from_secs(1));
        drop(c);
        // Nobody is queued any more: a token at hand admits at once again.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(limiter.try_admit(Instant::now()).is_some());
    });
}

#[test]
fn nobody_takes_a_token_past_a_queued_waiter() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::per_second(10)), None);
        drop(limiter.try_admit(Instant::now()).expect("the first token"));
        let waiter = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move { limiter.admit().await.waited }
        });
        tokio::task::yield_now().await;
        // The waiter is queued for the token due at 100 ms; at 100 ms it is there, but it
        // is the waiter's.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(limiter.try_admit(Instant::now()).is_none());
        assert_eq!(waiter.await.unwrap(), Duration::from_millis(100));
    });
}

#[test]
fn adaptive_measures_what_the_server_accepted_over_the_whole_window() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::adaptive()), None);
        // 200 successes in the first second, then 200 ms of quiet, then a refusal: the
        // server accepted 200 in 1.2 s, about 167 a second; the rate is nine tenths of it.
        for _ in 0..200 {
            limiter.feedback(false);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        limiter.feedback(true);
        let cut = limiter.current_rate().unwrap();
        assert!((cut - 0.9 * 200.0 / 1.2).abs() < 1.0, "{cut}");
    });
}

#[test]
fn adaptive_uses_the_current_window_once_it_is_half_full() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::adaptive()), None);
        // A full first second at 100 a second...
        for _ in 0..100 {
            limiter.feedback(false);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // ...then half a second at 50 a second, and a refusal: the current window (half a
        // second, 25 successes) says 50, and it is what counts.
        for _ in 0..25 {
            limiter.feedback(false);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        limiter.feedback(true);
        let cut = limiter.current_rate().unwrap();
        assert!((cut - 45.0).abs() < 0.5, "{cut}");
    });
}

#[test]
fn a_refusal_200_ms_after_a_cut_cuts_again() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::adaptive()), None);
        for _ in 0..100 {
            limiter.feedback(false);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        limiter.feedback(true);
        let first = limiter.current_rate().unwrap();
        assert!((first - 90.0).abs() < 0.5, "{first}");
        // Within the cooldown: the same overload, no second cut.
        tokio::time::sleep(Duration::from_millis(199)).await;
        limiter.feedback(true);
        assert!(limiter.current_rate().unwrap() > first, "grown, not cut");
        // At 200 ms it is a new refusal: nine tenths of the rate then (90 grown by 1%).
        tokio::time::sleep(Duration::from_millis(1)).await;
        limiter.feedback(true);
        let second = limiter.current_rate().unwrap();
        assert!((second - 0.9 * 90.0 * 1.01).abs() < 0.1, "{second}");
    });
}

#[test]
fn under_a_cap_no_more_are_in_flight_and_every_waiter_gets_through_in_time() {
    paused().block_on(async {
        let limiter = limiter(None, Some(3));
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let tasks: Vec<_> = (0..50u64)
            .map(|i| {
                let (limiter, now, most) = (Arc::clone(&limiter), Arc::clone(&now), Arc::clone(&most));
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(i % 7)).await;
                    let _place = limiter.admit().await;
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
        // 50 holds of 10 ms, three at a time: 17 rounds. A place left free while somebody
        // waited would show as a longer run.
        assert!(
            start.elapsed() <= Duration::from_millis(176),
            "{:?}",
            start.elapsed()
        );
    });
}

#[test]
fn a_waiter_woken_and_dropped_before_it_runs_passes_the_place_on() {
    paused().block_on(async {
        let limiter = limiter(None, Some(1));
        let held = limiter.admit().await;
        let spawn_waiter = || {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move { drop(limiter.admit().await) })
        };
        let first = spawn_waiter();
        tokio::task::yield_now().await;
        let second = spawn_waiter();
        tokio::task::yield_now().await;
        // The place goes to the first waiter, which is dropped before it runs.
        drop(held);
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        tokio::time::timeout(Duration::from_millis(1), second)
            .await
            .expect("the second waiter got the place")
            .unwrap();
        assert!(limiter.try_admit(Instant::now()).is_some(), "and gave it back");
    });
}

#[test]
fn nobody_takes_a_place_past_a_waiter() {
    paused().block_on(async {
        let limiter = limiter(None, Some(1));
        let held = limiter.try_admit(Instant::now()).expect("the one place");
        let waiter = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move { limiter.admit().await.waited }
        });
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        // The place is free, but it is the waiter's.
        assert!(limiter.try_admit(Instant::now()).is_none());
        assert_eq!(waiter.await.unwrap(), Duration::from_millis(20));
        assert!(limiter.try_admit(Instant::now()).is_some());
    });
}

#[test]
fn a_place_taken_is_given_back_when_the_token_is_not_at_hand() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::per_second(1)), Some(1));
        drop(limiter.try_admit(Instant::now()).expect("the one token"));
        assert!(limiter.try_admit(Instant::now()).is_none(), "no token");
        // The place the refused admission took is free again: a queued admission gets it
        // at once, and the token a second later.
        let waited = tokio::time::timeout(Duration::from_millis(1001), limiter.admit())
            .await
            .expect("the place was given back")
            .waited;
        assert_eq!(waited, Duration::from_secs(1));
    });
}

/// A call admits itself with the clock it read when it started: a reading older than the
/// bucket's last (another call took a token since) refills nothing, and the time between
/// the two is not counted twice.
#[test]
fn an_older_reading_of_the_clock_refills_nothing() {
    paused().block_on(async {
        let limiter = limiter(Some(RateLimit::per_second(10).burst(1)), None);
        let early = Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // At 100 ms, with a fresh reading: the burst's one token.
        drop(limiter.try_admit(Instant::now()).expect("the burst"));
        // The reading from 0 ms comes late: no token, as at 100 ms.
        assert!(limiter.try_admit(early).is_none());
        // 50 ms after the last token: still none. Had the late reading moved the bucket back
        // to 0 ms, the 100 ms until now would refill a whole token.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(limiter.try_admit(Instant::now()).is_none());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(limiter.try_admit(Instant::now()).is_some());
    });
}

/// Callers on many threads at the same moment share the burst exactly: no place in the rate
/// is lost or given twice when they race for it.
#[test]
fn racing_threads_share_the_burst_exactly() {
    const THREADS: usize = 8;
    const BURST: u32 = 100_000;
    let limiter = limiter(Some(RateLimit::per_second(1).burst(BURST)), None);
    let now = Instant::now();
    let admitted = AtomicUsize::new(0);
    let start = std::sync::Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                start.wait();
                let mut mine = 0;
                for _ in 0..BURST as usize / THREADS * 2 {
                    if limiter.try_admit(now).is_some() {
                        mine += 1;
                    }
                }
                admitted.fetch_add(mine, Ordering::Relaxed);
            });
        }
    });
    assert_eq!(admitted.load(Ordering::Relaxed), BURST as usize);
    // A second later, one more.
    assert!(limiter.try_admit(now + Duration::from_secs(1)).is_some());
    assert!(limiter.try_admit(now + Duration::from_secs(1)).is_none());
}

/// A rate is never rounded up: at 3 a second, each request goes a third of a second after
/// the one before (rounded to the nanosecond above), and not a nanosecond sooner.
#[test]
fn a_rate_that_does_not_divide_evenly_is_never_exceeded() {
    let limiter = limiter(Some(RateLimit::per_second(3).burst(1)), None);
    let third = Duration::from_nanos(333_333_333);
    let mut last = Instant::now();
    assert!(limiter.try_admit(last).is_some());
    for _ in 0..3 {
        assert!(
            limiter.try_admit(last + third).is_none(),
            "a third of a second, rounded down"
        );
        last += third + Duration::from_nanos(1);
        assert!(limiter.try_admit(last).is_some());
    }
}

/// A rate finer than a nanosecond (four billion a second) is still never exceeded: over a
/// microsecond, no more than `burst + rate × t` requests.
#[test]
fn a_rate_finer_than_a_nanosecond_is_never_exceeded() {
    let limiter = limiter(Some(RateLimit::per_second(u32::MAX).burst(100)), None);
    let start = Instant::now();
    let mut admitted = 0u64;
    for ns in 0..=1_000u64 {
        let at = start + Duration::from_nanos(ns);
        // Bounded, so that a limiter that admits everything fails rather than hangs.
        admitted += (0..10_000)
            .take_while(|_| limiter.try_admit(at).is_some())
            .count() as u64;
    }
    let allowed = 100.0 + f64::from(u32::MAX) * 1e-6;
    assert!(admitted as f64 <= allowed, "{admitted} > {allowed}");
    assert!(admitted >= 3_000, "and the rate is not lost either: {admitted}");
}
