//! What the TUI reads a screen at a time: key handles in list order with rows
//! loaded by id, and history pages found by sequence number, which together
//! must give exactly what one full listing gives.

mod common;

use common::service::demo_service;
use keyward_core::domain::history::HistoryPage;
use keyward_core::domain::query::{HistoryQuery, KeyQuery};

#[test]
fn key_handles_follow_the_listing_order_for_any_filter() {
    let (_store, mut service) = demo_service(120, 0);
    for filter in [
        "",
        "status:active",
        "-status:active team:none",
        "expires:<30d",
        "a",
    ] {
        let query = KeyQuery::parse(filter).unwrap();
        let keys = service.list_keys(&query, false, None).unwrap();
        let refs = service.list_key_refs(&query, false).unwrap();
        let ids: Vec<&str> = keys.iter().map(|k| k.public_id.as_str()).collect();
        let ref_ids: Vec<&str> = refs.iter().map(|r| r.public_id.as_str()).collect();
        assert_eq!(ids, ref_ids, "filter {filter:?}");
    }
}

#[test]
fn rows_load_by_id_in_the_order_asked() {
    let (_store, mut service) = demo_service(40, 0);
    let refs = service.list_key_refs(&KeyQuery::default(), true).unwrap();
    let mut wanted: Vec<i64> = refs.iter().map(|r| r.id).take(10).collect();
    wanted.reverse();
    wanted.push(i64::MAX); // gone: skipped, not an error
    let keys = service.keys_by_ids(&wanted).unwrap();
    let got: Vec<i64> = keys.iter().map(|k| k.id).collect();
    assert_eq!(got, wanted[..10]);
}

#[test]
fn history_pages_walked_both_ways_give_the_full_history() {
    let (_store, mut service) = demo_service(30, 500);
    for filter in ["", "action:viewed,copied", "-action:viewed"] {
        let query = HistoryQuery::parse(filter).unwrap();
        let all = service.history(&query, None).unwrap();
        let mut down = service
            .history_page(&query, HistoryPage::Newest, 37)
            .unwrap();
        while let Some(last) = down.last().map(|r| r.record.seq) {
            let page = service
                .history_page(&query, HistoryPage::OlderThan(last), 37)
                .unwrap();
            if page.is_empty() {
                break;
            }
            down.extend(page);
        }
        assert_eq!(down, all, "filter {filter:?} walked from the newest");

        let mut up = service
            .history_page(&query, HistoryPage::Oldest, 37)
            .unwrap();
        while let Some(first) = up.first().map(|r| r.record.seq) {
            let mut page = service
                .history_page(&query, HistoryPage::NewerThan(first), 37)
                .unwrap();
            if page.is_empty() {
                break;
            }
            page.extend(up);
            up = page;
        }
        assert_eq!(up, all, "filter {filter:?} walked from the oldest");
    }
}

#[test]
fn export_visits_every_matching_row_newest_first() {
    let (_store, mut service) = demo_service(20, 200);
    let query = HistoryQuery::parse("action:created").unwrap();
    let all = service.history(&query, None).unwrap();
    let mut seen = Vec::new();
    service
        .each_history(&query, |row| {
            seen.push(row);
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(seen, all);
    assert!(!seen.is_empty());
}
