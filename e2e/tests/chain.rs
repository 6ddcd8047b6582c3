//! The handler chain as a client meets it: authentication (anonymous on or off),
//! impersonation headers, the max-in-flight limit's `429`, and request metrics, against the
//! real apiserver and etcd. Raw HTTPS, since kube-rs retries `429`s by itself.

use std::time::Duration;

use e2e::raw::{request, RawResponse};
use e2e::TestCluster;

async fn get(c: &TestCluster, path: &str, headers: &[(&str, &str)]) -> RawResponse {
    request(c.apiserver_addr(), "GET", path, headers, b"")
        .await
        .expect("the apiserver answers")
}

#[tokio::test]
async fn without_anonymous_auth_every_request_is_401_as_upstream() {
    let c = TestCluster::start_with(&["--anonymous-auth=false"])
        .await
        .unwrap();
    let r = get(
        &c,
        "/api/v1/namespaces",
        &[("Authorization", "Bearer not-a-known-token")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let s: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        s,
        serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
    c.stop().await;
}

#[tokio::test]
async fn impersonation_headers_and_the_in_flight_limit() {
    let c = TestCluster::start_with(&["--max-requests-inflight=1"])
        .await
        .unwrap();

    // Impersonating a user (AlwaysAllow lets anyone) works; groups without a user do not.
    let r = get(
        &c,
        "/api/v1/namespaces/default",
        &[("Impersonate-User", "jane"), ("Impersonate-Group", "devs")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get(
        &c,
        "/api/v1/namespaces/default",
        &[("Impersonate-Group", "devs")],
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(
        r.body.contains("without impersonating a user"),
        "{}",
        r.body
    );

    // A list waiting for a resourceVersion the cache never reaches holds the only read-only
    // slot for its 3 s wait; a read meanwhile is refused with upstream's 429, while a write
    // (its own limit) and a watch (long-running) are not.
    let addr = c.apiserver_addr();
    let slow = tokio::spawn(async move {
        request(
            addr,
            "GET",
            "/api/v1/configmaps?resourceVersion=999999999",
            &[],
            b"",
        )
        .await
    });
    let mut refused = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let r = get(&c, "/api/v1/namespaces/default", &[]).await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            !slow.is_finished(),
            "the slow list ended before any read was refused"
        );
    }
    let r = refused.expect("a read while the only slot is held gets 429");
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(r.body, "Too many requests, please try again later.\n");
    let r = request(
        addr,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type", "application/json")],
        br#"{"metadata":{"name":"during-limit"}}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let r = get(
        &c,
        "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1",
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = slow.await.unwrap().unwrap();
    assert_eq!(r.status, 504, "{}", r.body);
    // The slot came back.
    let r = get(&c, "/api/v1/namespaces/default", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let metrics = get(&c, "/metrics", &[]).await.body;
    assert!(
        metrics.contains("apiserver_current_inflight_requests{request_kind=\"readOnly\"} 1"),
        "the metrics request itself holds the slot: {metrics}"
    );
    assert!(
        metrics.contains("code=\"429\",group=\"\",resource=\"namespaces\""),
        "429s are counted"
    );
    c.stop().await;
}
