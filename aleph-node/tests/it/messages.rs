//! `messages.json`: page and cursor pagination (with ties on time), the filters, the content
//! formats, and the per-message views.

use std::collections::HashSet;

use aleph_core::{MessageType, PendingMessage, Signer, UnsignedMessage};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

/// A POST with a fixed envelope time (to make ties).
fn post_at(signer: &dyn Signer, n: usize, time: f64, channel: &str) -> PendingMessage {
    let content = json!({"address": signer.address(), "time": time, "type": "paged", "content": {"n": n}});
    signer
        .sign(UnsignedMessage::inline(MessageType::Post, content.to_string(), time, Some(channel.into())))
        .unwrap()
}

fn hashes_of(page: &Value) -> Vec<String> {
    page["messages"].as_array().unwrap().iter().map(|m| m["item_hash"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn page_and_cursor_pagination() {
    let node = TestNode::start().await;
    let signer = node.eth(0);
    // 25 messages; groups of five share the same time, to test the tie-break.
    let mut all = Vec::new();
    for n in 0..25 {
        let m = post_at(&signer, n, 1_700_000_000.0 + (n / 5) as f64, "PAGED");
        node.submit(&m, false).await;
        all.push(m);
    }
    for m in &all {
        node.wait_status(m.item_hash.as_str(), "processed").await;
    }
    // Expected order: time descending, then item_hash ascending.
    let mut expected: Vec<(f64, String)> = all.iter().map(|m| (m.time, m.item_hash.to_string())).collect();
    expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let expected: Vec<String> = expected.into_iter().map(|(_, h)| h).collect();

    // Page mode: all four pagination keys.
    let first = node.get_ok("/api/v0/messages.json?channels=PAGED").await;
    assert_eq!(first["pagination_page"], 1);
    assert_eq!(first["pagination_per_page"], 20);
    assert_eq!(first["pagination_total"], 25);
    assert_eq!(first["pagination_item"], "messages");
    assert!(first.get("next_cursor").is_none());
    assert_eq!(hashes_of(&first), expected[..20]);
    let second = node.get_ok("/api/v0/messages.json?channels=PAGED&page=2").await;
    assert_eq!(hashes_of(&second), expected[20..]);
    assert_eq!(second["pagination_total"], 25);
    let by_path = node.get_ok("/api/v0/messages/page/2.json?channels=PAGED&pagination=10").await;
    assert_eq!(hashes_of(&by_path), expected[10..20]);
    assert_eq!(by_path["pagination_page"], 2);
    let everything = node.get_ok("/api/v0/messages.json?channels=PAGED&pagination=0").await;
    assert_eq!(hashes_of(&everything), expected);
    let past_the_end = node.get_ok("/api/v0/messages.json?channels=PAGED&page=9").await;
    assert_eq!(past_the_end["messages"], json!([]));

    // Cursor mode, started by an empty cursor, in both orders.
    for (order, expected) in
        [("-1", expected.clone()), ("1", expected.iter().rev().cloned().collect::<Vec<_>>())]
    {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        let mut pages = 0;
        loop {
            let page = node
                .get_ok(&format!(
                    "/api/v0/messages.json?channels=PAGED&pagination=7&sortOrder={order}&cursor={cursor}"
                ))
                .await;
            pages += 1;
            assert_eq!(page["pagination_per_page"], 7);
            assert!(
                page.get("pagination_total").is_none() && page.get("pagination_page").is_none(),
                "{page}"
            );
            seen.extend(hashes_of(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_owned(),
                None => break,
            }
            assert!(pages < 10, "cursor paging does not end");
        }
        if order == "1" {
            // Ascending walks time ascending with the same item_hash tie-break.
            let mut asc: Vec<(f64, String)> = all.iter().map(|m| (m.time, m.item_hash.to_string())).collect();
            asc.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let asc: Vec<String> = asc.into_iter().map(|(_, h)| h).collect();
            assert_eq!(seen, asc, "ascending cursor walk");
        } else {
            assert_eq!(seen, expected, "descending cursor walk");
        }
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25);
        assert_eq!(pages, 4);
    }
    // Cursor mode caps the page at 200 and refuses 0.
    let capped = node.get_ok("/api/v0/messages.json?channels=PAGED&pagination=500&cursor=").await;
    assert_eq!(capped["pagination_per_page"], 200);
    assert_eq!(capped["next_cursor"], Value::Null);
    assert_eq!(
        node.get("/api/v0/messages.json?pagination=0&cursor=").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        node.get("/api/v0/messages.json?cursor=!!notacursor").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    node.stop().await;
}

#[tokio::test]
async fn list_filters_and_content_formats() {
    let node = TestNode::start().await;
    let (eth, sol, tez) = (node.eth(0), node.sol(0), node.tezos(0));
    let t0 = 1_700_000_000.0;
    let p_eth = sign(
        &eth,
        MessageType::Post,
        json!({"type": "chat", "ref": "thread-1", "content": {"tags": ["red"]}}),
    );
    let p_sol = sign_on(&sol, MessageType::Post, json!({"type": "mail", "content": {}}), "OTHER");
    let a_tez = sign(&tez, MessageType::Aggregate, json!({"key": "k", "content": {"tags": ["blue"]}}));
    let dated = post_at(&eth, 1, t0, CHANNEL);
    for m in [&p_eth, &p_sol, &a_tez, &dated] {
        node.submit_ok(m).await;
    }
    let nr = &node;
    let q = move |query: &str| {
        let path = format!("/api/v0/messages.json?{query}");
        async move { hashes_of(&nr.get_ok(&path).await) }
    };
    let h = |m: &PendingMessage| m.item_hash.to_string();
    assert_eq!(q(&format!("addresses={}", sol.address())).await, [h(&p_sol)]);
    assert_eq!(q(&format!("owners={}", tez.address())).await, [h(&a_tez)]);
    assert_eq!(q("chains=TEZOS").await, [h(&a_tez)]);
    assert_eq!(q("channels=OTHER").await, [h(&p_sol)]);
    assert_eq!(q("msgTypes=AGGREGATE").await, [h(&a_tez)]);
    assert_eq!(q("msgType=AGGREGATE").await, [h(&a_tez)]);
    assert_eq!(q("contentTypes=mail").await, [h(&p_sol)]);
    assert_eq!(q("refs=thread-1").await, [h(&p_eth)]);
    assert_eq!(q("tags=blue").await, [h(&a_tez)]);
    assert_eq!(q("tags=red,blue").await.len(), 2);
    assert_eq!(q("contentKeys=k").await, [h(&a_tez)]);
    assert_eq!(q(&format!("hashes={},{}", h(&p_eth), h(&p_sol))).await.len(), 2);
    assert_eq!(q(&format!("startDate={}&endDate={}", t0 - 1.0, t0 + 1.0)).await, [h(&dated)]);
    assert_eq!(q(&format!("endDate={}", t0 + 1.0)).await, [h(&dated)]);
    assert_eq!(q(&format!("startDate={}", t0 + 1.0)).await.len(), 3);
    assert_eq!(q("paymentTypes=hold&msgTypes=POST").await.len(), 3);
    // Unknown parameters are ignored (the SDK and aleph-vm send some).
    assert_eq!(q("message_statuses=&sort_order=1&chains=SOL").await, [h(&p_sol)]);

    // Content formats.
    let full = node.get_ok(&format!("/api/v0/messages.json?hashes={}", h(&p_eth))).await;
    assert_eq!(full["messages"][0]["content"]["content"]["tags"], json!(["red"]));
    let headers =
        node.get_ok(&format!("/api/v0/messages.json?hashes={}&contentFormat=headers", h(&p_eth))).await;
    assert_eq!(
        headers["messages"][0]["content"],
        json!({"address": eth.address(), "type": "chat", "ref": "thread-1"})
    );
    let headers =
        node.get_ok(&format!("/api/v0/messages.json?hashes={}&contentFormat=headers", h(&a_tez))).await;
    assert_eq!(headers["messages"][0]["content"], json!({"address": tez.address(), "key": "k"}));
    for query in ["contentFormat=none", "excludeContent=true"] {
        let none = node.get_ok(&format!("/api/v0/messages.json?hashes={}&{query}", h(&p_eth))).await;
        assert!(none["messages"][0].get("content").is_none(), "{query}: {none}");
        assert_eq!(none["messages"][0]["item_hash"], h(&p_eth));
    }
    // Every listed message has exactly the list-form keys.
    let all = node.get_ok("/api/v0/messages.json").await;
    for m in all["messages"].as_array().unwrap() {
        assert_eq!(
            keys(m),
            [
                "chain",
                "channel",
                "confirmations",
                "confirmed",
                "content",
                "item_content",
                "item_hash",
                "item_type",
                "sender",
                "signature",
                "size",
                "time",
                "type"
            ]
        );
    }
    // Content of an aggregate message: the whole content.
    let content = node.get_ok(&format!("/api/v0/messages/{}/content", h(&a_tez))).await;
    assert_eq!(content["key"], "k");
    node.stop().await;
}

#[tokio::test]
async fn per_message_views_answer_404_400_and_422() {
    let node = TestNode::start().await;
    let unknown = sha256_hex(b"unknown message");
    for suffix in ["", "/status", "/content"] {
        assert_eq!(
            node.get(&format!("/api/v0/messages/{unknown}{suffix}")).await.0,
            StatusCode::NOT_FOUND,
            "{suffix}"
        );
        let (status, body) = node.get(&format!("/api/v0/messages/not-a-hash{suffix}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{suffix}: {body}");
    }
    // The content of a message that is not processed: 422.
    let mut unsigned = post(&node.eth(0), "x", json!({}));
    unsigned.signature = None;
    node.submit(&unsigned, false).await;
    let (status, _) = node.get(&format!("/api/v0/messages/{}/content", unsigned.item_hash)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    node.stop().await;
}

#[tokio::test]
async fn the_status_filter_lists_only_what_it_names() {
    let node = TestNode::start().await;
    let processed = post(&node.eth(0), "status", json!({"ok": true}));
    node.submit_ok(&processed).await;
    let mut rejected = post(&node.eth(0), "status", json!({"ok": false}));
    rejected.signature = None;
    node.submit(&rejected, true).await;
    let p = processed.item_hash.to_string();
    for q in ["", "msgStatuses=processed", "msgStatuses=processed,removing"] {
        assert_eq!(
            hashes_of(&node.get_ok(&format!("/api/v0/messages.json?{q}")).await),
            std::slice::from_ref(&p),
            "{q}"
        );
    }
    // Statuses a processed message does not have must not list it.
    for q in [
        "msgStatuses=removing",
        "msgStatuses=rejected",
        "msgStatuses=pending",
        "msgStatuses=pending,rejected",
    ] {
        let page = node.get_ok(&format!("/api/v0/messages.json?{q}")).await;
        assert_eq!(page["messages"], json!([]), "{q}");
        assert_eq!(page["pagination_total"], 0, "{q}");
    }
    node.stop().await;
}

#[tokio::test]
async fn message_hashes_by_reception_time_with_status_filter_and_paging() {
    let node = TestNode::start().await;
    let mut processed = Vec::new();
    for n in 0..3 {
        let m = post(&node.eth(0), "hashes", json!({"n": n}));
        node.submit_ok(&m).await;
        processed.push(m.item_hash.to_string());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut rejected = post(&node.eth(0), "hashes", json!({"n": "bad"}));
    rejected.signature = None;
    node.submit(&rejected, true).await;
    let rejected = rejected.item_hash.to_string();

    // Newest reception first, every status, bare hashes by default.
    let all = node.get_ok("/api/v0/messages/hashes").await;
    let newest_first: Vec<&str> =
        [rejected.as_str()].into_iter().chain(processed.iter().rev().map(String::as_str)).collect();
    assert_eq!(all["hashes"], json!(newest_first));
    assert_eq!(all["pagination_total"], 4);
    assert_eq!(all["pagination_item"], "hashes");
    assert_eq!(all["pagination_page"], 1);
    assert_eq!(all["pagination_per_page"], 20);

    let only = node.get_ok("/api/v0/messages/hashes?status=processed&sortOrder=1&pagination=2&page=2").await;
    assert_eq!(only["hashes"], json!([processed[2]]));
    assert_eq!(only["pagination_total"], 3);

    let full = node.get_ok("/api/v0/messages/hashes?status=rejected&hash_only=false").await;
    assert_eq!(full["hashes"][0]["item_hash"], rejected);
    assert_eq!(full["hashes"][0]["status"], "rejected");
    assert!(full["hashes"][0]["reception_time"].as_str().is_some_and(|t| t.ends_with("+00:00")), "{full}");

    let future = now() + 3600.0;
    assert_eq!(
        node.get_ok(&format!("/api/v0/messages/hashes?startDate={future}")).await["hashes"],
        json!([])
    );
    for bad in
        ["status=nope", "startDate=-1", "startDate=10&endDate=5", "page=0", "sortOrder=2", "hash_only=maybe"]
    {
        let (status, body) = node.get(&format!("/api/v0/messages/hashes?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    node.stop().await;
}

#[tokio::test]
async fn the_owners_filter_merges_own_and_delegated_messages_in_order() {
    let node = TestNode::start().await;
    let (owner, delegate, stranger) = (node.eth(0), node.eth(1), node.eth(2));
    let grant = json!({"authorizations": [{"address": delegate.address()}]});
    node.submit_ok(&aggregate(&owner, "security", grant, 1_600_000_000.0)).await;
    // Interleaved in time: the owner's own posts, the delegate's posts for the owner, the
    // delegate's own posts and a stranger's (neither listed for the owner).
    let mut expected = Vec::new();
    for n in 0..12usize {
        let time = 1_700_000_000.0 + n as f64;
        let m = match n % 4 {
            0 | 1 => post_at(&owner, n, time, "OWN"),
            2 => {
                let content =
                    json!({"address": owner.address(), "time": time, "type": "paged", "content": {"n": n}});
                delegate
                    .sign(UnsignedMessage::inline(
                        MessageType::Post,
                        content.to_string(),
                        time,
                        Some("DEL".into()),
                    ))
                    .unwrap()
            }
            _ => post_at(if n % 8 == 3 { &delegate } else { &stranger }, n, time, "ELSE"),
        };
        node.submit_ok(&m).await;
        if n % 4 != 3 {
            expected.push(m.item_hash.to_string());
        }
    }
    expected.reverse(); // newest first
    let owners = format!("owners={}&msgTypes=POST", owner.address());
    let all = node.get_ok(&format!("/api/v0/messages.json?{owners}&pagination=0")).await;
    assert_eq!(hashes_of(&all), expected);
    assert_eq!(all["pagination_total"], expected.len());

    // Pages and cursors cross the two arms.
    let page2 = node.get_ok(&format!("/api/v0/messages.json?{owners}&pagination=4&page=2")).await;
    assert_eq!(hashes_of(&page2), expected[4..8]);
    assert_eq!(page2["pagination_total"], expected.len());
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = node.get_ok(&format!("/api/v0/messages.json?{owners}&pagination=5&cursor={cursor}")).await;
        seen.extend(hashes_of(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let ascending = node.get_ok(&format!("/api/v0/messages.json?{owners}&pagination=0&sortOrder=1")).await;
    assert_eq!(hashes_of(&ascending), expected.iter().rev().cloned().collect::<Vec<_>>());

    // Combined with other filters: only what was sent for the owner by the delegate, then only
    // the owner's own.
    let delegated = node
        .get_ok(&format!("/api/v0/messages.json?{owners}&addresses={}&pagination=0", delegate.address()))
        .await;
    assert_eq!(hashes_of(&delegated).len(), 3);
    assert!(delegated["messages"].as_array().unwrap().iter().all(|m| m["channel"] == "DEL"));
    let own = node.get_ok(&format!("/api/v0/messages.json?{owners}&channels=OWN&pagination=0")).await;
    assert_eq!(hashes_of(&own).len(), 6);
    // Two owners at once: the security aggregate (an AGGREGATE) is left out by msgTypes=POST.
    let both = node
        .get_ok(&format!(
            "/api/v0/messages.json?owners={},{}&msgTypes=POST&pagination=0",
            owner.address(),
            stranger.address()
        ))
        .await;
    assert_eq!(hashes_of(&both).len(), expected.len() + 1);

    // Totals of full pages are counted without reading the owners' rows: check them against the
    // listings (one per page forces the count).
    for (who, types, listed) in [
        (owner.address(), "&msgTypes=POST", expected.len()),
        (owner.address(), "", expected.len() + 1), // the security aggregate too
        (delegate.address(), "", 2),               // its own posts, not those sent for the owner
        (stranger.address(), "&msgTypes=POST", 1),
    ] {
        let page = node.get_ok(&format!("/api/v0/messages.json?owners={who}{types}&pagination=1")).await;
        assert_eq!(page["pagination_total"], listed, "{who}{types}");
        let all = node.get_ok(&format!("/api/v0/messages.json?owners={who}{types}&pagination=0")).await;
        assert_eq!(hashes_of(&all).len(), listed, "{who}{types}");
    }
    node.stop().await;
}

#[tokio::test]
async fn content_time_is_answered_as_item_content_has_it() {
    // A time the Python SDK writes (`time.time()`), finer than the microsecond.
    let node = TestNode::start().await;
    let signer = node.eth(0);
    let time = 1796307295.0000033_f64;
    let content = json!({"address": signer.address(), "time": time, "type": "timed", "content": {}});
    let m = signer
        .sign(UnsignedMessage::inline(MessageType::Post, content.to_string(), time, Some(CHANNEL.into())))
        .unwrap();
    assert!(m.item_content.as_deref().unwrap().contains("1796307295.0000033"));
    node.submit_ok(&m).await;
    let one = node.get_ok(&format!("/api/v0/messages/{}", m.item_hash)).await;
    assert_eq!(one["message"]["content"]["time"].as_f64(), Some(time), "{one}");
    let listed = node.get_ok(&format!("/api/v0/messages.json?hashes={}", m.item_hash)).await;
    assert_eq!(listed["messages"][0]["content"]["time"].as_f64(), Some(time), "{listed}");
    let raw = node.http.get(format!("{}/api/v0/messages/{}", node.url, m.item_hash)).send().await.unwrap();
    assert!(raw.text().await.unwrap().contains("\"time\":1796307295.0000033"));
    node.stop().await;
}
