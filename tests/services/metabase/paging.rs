//! Metabase user lists: filters, pages and the stream over them, including servers that
//! ignore or break paging.

use super::*;

#[tokio::test]
async fn list_users_sends_every_filter() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(json(200, LIST))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListUsers::new()
        .status(UserStatus::Deactivated)
        .include_deactivated(false)
        .query("ras ta")
        .group_id(gid(4))
        .tenancy(Tenancy::Internal)
        .tenant_id(9)
        .is_data_analyst(true)
        .can_access_data_studio(false)
        .limit(2)
        .offset(0);
    let page = api(&server).list_users(&query).await.unwrap();
    assert_eq!((page.total, page.limit, page.offset), (Some(3), Some(2), Some(0)));
    assert_eq!(page.data[1].group_ids, Some(vec![gid(1)]));
    let url = &server.received_requests().await.unwrap()[0].url;
    assert_eq!(
        url.query().map(sorted_pairs),
        Some(sorted_pairs(
            "status=deactivated&include_deactivated=false&query=ras+ta&group_id=4&tenancy=internal&tenant_id=9\
             &is_data_analyst=true&can_access_data_studio=false&limit=2&offset=0"
        ))
    );
}

#[tokio::test]
async fn an_old_servers_bare_array_decodes_as_a_page_without_total() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, BARE))
        .mount(&server)
        .await;
    let page = api(&server).list_users(&ListUsers::new()).await.unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!((page.total, page.limit, page.offset), (None, None, None));
}

/// Serves `total` users in pages, honouring `limit` and `offset`.
fn paging(total: u64) -> impl Fn(&Request) -> ResponseTemplate {
    move |req: &Request| {
        let q = |k: &str| {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let (limit, offset) = (q("limit").unwrap_or(50), q("offset").unwrap_or(0));
        let data: Vec<_> = (offset..(offset + limit).min(total))
            .map(|i| json!({"id": i + 1}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"data": data, "total": total, "limit": limit, "offset": offset}))
    }
}

#[tokio::test]
async fn the_stream_walks_every_page_and_stops_at_total() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(paging(25))
        .expect(3)
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().query("a").limit(10));
    let mut ids = Vec::new();
    while let Some(user) = stream.next().await {
        ids.push(user.unwrap().id);
    }
    assert_eq!(ids, (1..=25).collect::<Vec<_>>());
    assert_eq!(stream.total(), Some(25));
    let mut offsets: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| sorted_pairs(r.url.query().unwrap_or("")))
        .collect();
    // The first page alone (it tells the total), then the rest at once: sort to compare.
    offsets.sort();
    assert_eq!(
        offsets,
        [
            "query=a&limit=10&offset=0",
            "query=a&limit=10&offset=10",
            "query=a&limit=10&offset=20"
        ]
        .map(sorted_pairs)
    );
}

#[tokio::test]
async fn the_stream_is_a_futures_stream_too() {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(paging(3))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let mut count = 0;
    loop {
        let next = std::future::poll_fn(|cx: &mut Context<'_>| -> Poll<Option<_>> {
            futures_core::Stream::poll_next(Pin::new(&mut stream), cx)
        })
        .await;
        match next {
            Some(user) => {
                user.unwrap();
                count += 1;
            }
            None => break,
        }
    }
    assert_eq!(count, 3);
}

#[tokio::test]
async fn a_server_that_never_advances_ends_the_stream_with_an_error() {
    let server = MockServer::start().await;
    // Claims 100 users but returns an empty page.
    Mock::given(method("GET"))
        .respond_with(json(
            200,
            r#"{"data": [], "total": 100, "limit": 10, "offset": 0}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(10));
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("empty page at offset 0"), "{err}");
    assert!(stream.next().await.is_none());

    let server = MockServer::start().await;
    // Ignores offset: always answers offset 0. The first page tells the total, up to four
    // more are asked for at once, and the first of those ends the stream (cancelling the
    // rest, which may or may not have gone out).
    Mock::given(method("GET"))
        .respond_with(json(
            200,
            r#"{"data": [{"id": 1}], "total": 5, "limit": 1, "offset": 0}"#,
        ))
        .expect(2..=5)
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(1));
    assert_eq!(stream.next().await.unwrap().unwrap().id, 1);
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("asked for offset 1"), "{err}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn fake_filters_and_pages_with_total() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = fake.api_with(userapi::metabase::auth::api_key(API_KEY)).unwrap();
    let active = admin.list_users(&ListUsers::new()).await.unwrap();
    assert_eq!(
        (active.data.len(), active.total, active.limit),
        (3, Some(3), None)
    );
    let gone = admin
        .list_users(&ListUsers::new().status(UserStatus::Deactivated))
        .await
        .unwrap();
    assert_eq!(gone.data.iter().map(|u| u.id).collect::<Vec<_>>(), [4]);
    let all = admin
        .list_users(&ListUsers::new().status(UserStatus::All))
        .await
        .unwrap();
    assert_eq!(all.total, Some(4));
    let found = admin.list_users(&ListUsers::new().query("TOUC")).await.unwrap();
    assert_eq!(found.data.iter().map(|u| u.id).collect::<Vec<_>>(), [2]);
    let admins = admin
        .list_users(&ListUsers::new().group_id(gid(2)))
        .await
        .unwrap();
    assert_eq!(admins.data.iter().map(|u| u.id).collect::<Vec<_>>(), [1]);
    let page = admin
        .list_users(&ListUsers::new().limit(2).offset(2))
        .await
        .unwrap();
    assert_eq!(
        (page.data.len(), page.total, page.limit, page.offset),
        (1, Some(3), Some(2), Some(2))
    );
    let mut stream = admin.users(ListUsers::new().status(UserStatus::All).limit(1));
    let mut n = 0;
    while let Some(user) = stream.next().await {
        user.unwrap();
        n += 1;
    }
    assert_eq!(n, 4);
}

#[tokio::test]
async fn fake_applies_the_newer_list_filters() {
    let fake = FakeMetabase::start().await.unwrap();
    let admin = session_of(&fake, ADMIN_EMAIL);
    let external = admin
        .list_users(&ListUsers::new().tenancy(Tenancy::External))
        .await
        .unwrap();
    assert_eq!(external.total, Some(0));
    let tenant = admin.list_users(&ListUsers::new().tenant_id(3)).await.unwrap();
    assert_eq!(tenant.total, Some(0));
    let both = admin
        .list_users(&ListUsers::new().tenancy(Tenancy::All).tenant_id(3))
        .await
        .unwrap_err();
    assert_eq!(both.status().map(|s| s.as_u16()), Some(400));
    let analysts = admin
        .list_users(&ListUsers::new().is_data_analyst(true))
        .await
        .unwrap();
    assert_eq!(analysts.total, Some(0));
    let studio = admin
        .list_users(&ListUsers::new().can_access_data_studio(true))
        .await
        .unwrap();
    assert_eq!(studio.data.iter().map(|u| u.id).collect::<Vec<_>>(), [1]);
}

/// Every user the stream yields and the error that ended it, within a few seconds: a pager
/// that loops fails the test instead of hanging it.
async fn drain_within_seconds(
    stream: &mut userapi::Pager<userapi::metabase::User>,
) -> (Vec<u64>, Option<Error>) {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut ids = Vec::new();
        while let Some(user) = stream.next().await {
            match user {
                Ok(u) => ids.push(u.id.get()),
                Err(e) => return (ids, Some(e)),
            }
        }
        (ids, None)
    })
    .await
    .expect("the stream ends within 5 s")
}

/// The query strings of the requests the server received, in the order they came.
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
async fn a_server_that_ignores_paging_and_echoes_nothing_ends_the_stream_after_two_requests() {
    // The same full page every time, whatever `offset` and `limit` say, with the paging keys
    // null, absent, or (an old server's shape) no envelope at all.
    let users = json!([{"id": 1}, {"id": 2}, {"id": 3}]);
    for body in [
        json!({"data": users, "total": null, "offset": null, "limit": null}),
        json!({"data": users}),
        users.clone(),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/user"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&body))
            .mount(&server)
            .await;
        let mut stream = api(&server).users(ListUsers::new().limit(3));
        let (ids, err) = drain_within_seconds(&mut stream).await;
        assert_eq!(ids, [1, 2, 3], "{body}: the first page once, nothing repeated");
        let err = err.unwrap_or_else(|| panic!("{body}: the stream ended without an error"));
        assert!(err.is_protocol(), "{body}: {err:?}");
        assert!(
            err.to_string()
                .contains("the page at offset 3 repeats the page before it"),
            "{body}: {err}"
        );
        assert!(stream.next().await.is_none(), "{body}");
        // Without a total, one page ahead: the first page, then the one that repeats it.
        assert_eq!(
            queries(&server).await,
            ["limit=3&offset=0", "limit=3&offset=3"],
            "{body}"
        );
        assert_eq!(stream.total(), None, "{body}");
    }
}

#[tokio::test]
async fn a_server_that_ignores_paging_with_a_total_but_no_offset_ends_the_stream() {
    // A total is told but `offset` is not echoed: the pager cannot rely on the echo.
    let body =
        json!({"data": [{"id": 1}, {"id": 2}, {"id": 3}], "total": 100, "offset": null, "limit": null});
    // One page at a time: exactly the first page and the one that repeats it.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3)).concurrency(1);
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3]);
    let err = err.expect("an error ends the stream");
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("repeats the page before it"), "{err}");
    assert_eq!(queries(&server).await, ["limit=3&offset=0", "limit=3&offset=3"]);

    // With read-ahead: the first page alone, then at most six at once; the first of those
    // frees its slot (refilled before the page is decoded), ends the stream and cancels the
    // rest (which may or may not have gone out).
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(3));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3]);
    let err = err.expect("an error ends the stream");
    assert!(err.is_protocol(), "{err:?}");
    assert!(stream.next().await.is_none());
    let sent = queries(&server).await;
    assert!((2..=8).contains(&sent.len()), "{sent:?}");
    assert_eq!(sent[0], "limit=3&offset=0");
}

#[tokio::test]
async fn a_server_that_ignores_limit_on_the_first_page_gives_the_whole_list_in_one_request() {
    // More than asked for on the first page: that is the whole list, and nothing more is asked.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}]})),
        )
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(queries(&server).await, ["limit=2&offset=0"]);
}

#[tokio::test]
async fn a_later_page_longer_than_asked_ends_the_stream_with_an_error() {
    // The first page is as asked; the second ignores `limit`.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": 1}, {"id": 2}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user"))
        .and(query_param("offset", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": 3}, {"id": 4}, {"id": 5}, {"id": 6}, {"id": 7}]})),
        )
        .mount(&server)
        .await;
    let mut stream = api(&server).users(ListUsers::new().limit(2));
    let (ids, err) = drain_within_seconds(&mut stream).await;
    assert_eq!(ids, [1, 2]);
    let err = err.expect("an error ends the stream");
    assert!(err.is_protocol(), "{err:?}");
    assert!(
        err.to_string()
            .contains("asked for 2 items at offset 2, the server answered 5"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(queries(&server).await, ["limit=2&offset=0", "limit=2&offset=2"]);
}
