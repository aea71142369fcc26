//! Rightech user lists by limit and offset, including servers that ignore or break paging.

use super::*;

#[tokio::test]
async fn users_walk_limit_and_offset_until_a_short_page() {
    let server = MockServer::start().await;
    let user = |i: u32| json!({"_id": format!("{i:024x}"), "name": format!("u{i}")});
    for (offset, ids) in [(0, vec![1, 2]), (2, vec![3, 4]), (4, vec![5])] {
        Mock::given(method("GET"))
            .and(path("/api/v1/users"))
            .and(query_param("limit", "2"))
            .and(query_param("offset", offset.to_string()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(ids.into_iter().map(user).collect::<Vec<_>>()),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let mut pages = api(&server).users(ListUsers::new().limit(2));
    let mut names = Vec::new();
    while let Some(page) = pages.next_page().await {
        names.extend(page.unwrap().into_iter().map(|u| u.name.unwrap()));
    }
    assert_eq!(names, ["u1", "u2", "u3", "u4", "u5"]);
    assert!(pages.next().await.is_none());
}

/// Every user id the stream yields (as the number it was made from) and the error that ended
/// it, within a few seconds: a pager that loops fails the test instead of hanging it.
async fn drain_within_seconds(stream: &mut userapi::Pager<User>) -> (Vec<u32>, Option<Error>) {
    tokio::time::timeout(Duration::from_secs(5), async {
        let mut ids = Vec::new();
        while let Some(user) = stream.next().await {
            match user {
                Ok(u) => ids.push(u32::from_str_radix(u.id.as_str(), 16).unwrap()),
                Err(e) => return (ids, Some(e)),
            }
        }
        (ids, None)
    })
    .await
    .expect("the stream ends within 5 s")
}

/// A list item whose id is the number `i` in 24 hex digits.
fn numbered(i: u32) -> serde_json::Value {
    json!({"_id": format!("{i:024x}"), "name": format!("u{i}")})
}

/// The `offset` of a request, as a number.
fn offset_of(req: &wiremock::Request) -> u64 {
    req.url
        .query_pairs()
        .find(|(k, _)| k == "offset")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap()
}

async fn queries(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_server_that_ignores_paging_ends_the_stream_after_two_requests() {
    // The same full page whatever `offset` and `limit` say.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json((1..=3).map(numbered).collect::<Vec<_>>()))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3], "the first page once, nothing repeated");
    let err = err.expect("an error ends the stream");
    assert!(err.is_protocol(), "{err:?}");
    assert!(
        err.to_string()
            .contains("the page at offset 3 repeats the page before it"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(queries(&server).await, ["limit=3&offset=0", "limit=3&offset=3"]);
}

#[tokio::test]
async fn a_server_that_reorders_the_same_page_ends_the_stream_after_two_requests() {
    // The same items in another order: still a page whose items all came on the page before.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(|req: &wiremock::Request| {
            let ids: Vec<u32> = if offset_of(req) == 0 {
                vec![1, 2, 3]
            } else {
                vec![3, 1, 2]
            };
            ResponseTemplate::new(200).set_body_json(ids.into_iter().map(numbered).collect::<Vec<_>>())
        })
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3]);
    let err = err.expect("an error ends the stream");
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("repeats the page before it"), "{err}");
    assert_eq!(queries(&server).await, ["limit=3&offset=0", "limit=3&offset=3"]);
}

#[tokio::test]
async fn a_server_that_wraps_around_ends_the_stream_where_a_page_starts_again() {
    // Honours `limit` but reads `offset` modulo its four users: pages 1–2, 3–4, then 1–2
    // again, which is not the page before but starts where the first page started.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(|req: &wiremock::Request| {
            let start = offset_of(req) % 4;
            let ids = (start..start + 2)
                .map(|i| numbered(i as u32 + 1))
                .collect::<Vec<_>>();
            ResponseTemplate::new(200).set_body_json(ids)
        })
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3, 4], "each user once");
    let err = err.expect("an error ends the stream");
    assert!(err.is_protocol(), "{err:?}");
    assert!(
        err.to_string()
            .contains("the page at offset 4 starts where an earlier page started"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(
        queries(&server).await,
        ["limit=2&offset=0", "limit=2&offset=2", "limit=2&offset=4"]
    );
}

#[tokio::test]
async fn a_server_whose_pages_overlap_and_cycle_ends_the_stream_within_a_bound() {
    // Five users in a ring; each page starts one user further on than the page before,
    // whatever `offset` says, so consecutive pages overlap by two. Pages starting at users
    // 1, 2, 3, 4, 5 pass (a list that shifts while it is read overlaps like this too); the
    // sixth starts at user 1 again and ends the stream.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(|req: &wiremock::Request| {
            let page = offset_of(req) / 3;
            let ids = (0..3)
                .map(|i| numbered(((page + i) % 5) as u32 + 1))
                .collect::<Vec<_>>();
            ResponseTemplate::new(200).set_body_json(ids)
        })
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids[..3], [1, 2, 3]);
    assert!(ids.len() <= 15, "{ids:?}");
    let err = err.expect("an error ends the stream");
    assert!(err.is_protocol(), "{err:?}");
    assert!(
        err.to_string().contains("starts where an earlier page started"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(queries(&server).await.len(), 6);
}
