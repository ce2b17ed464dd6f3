//! Snapshots of filters screens at 80×24 and 60×16 (`snapshot_testing` says how).

use crate::tui::snapshot_testing::*;

#[test]
fn filters_tab() {
    let mut state = main_state();
    state.tab = Tab::Filters;
    state.filters.saved = vec![
        SavedFilter {
            name: "payments, expiring".to_owned(),
            query: "team:payments expires:<30d".to_owned(),
        },
        SavedFilter {
            name: "prod bots".to_owned(),
            query: "instance:acme-prod developer:integration-bot".to_owned(),
        },
    ];
    state.filters.cursor = 5;
    snap_both("filters_tab", &mut state);
}

#[test]
fn filter_name_prompt() {
    let mut state = main_state();
    state.tab = Tab::Filters;
    state.modal = Some(Modal::NamePrompt(Box::new(NamePrompt {
        purpose: NamePurpose::SaveFilter {
            query: "status:active team:payments expires:<30d instance:acme-prod \
                    developer:integration-bot"
                .to_owned(),
        },
        input: Input::new("payments, expiring".to_owned()),
        error: Some("a filter named payments, expiring exists already".to_owned()),
    })));
    snap_both("filter_name_prompt", &mut state);
}

#[test]
fn the_query_reference_is_whole_at_80x24() {
    let mut state = main_state();
    state.tab = Tab::Filters;
    state.width = 80;
    state.height = 24;
    let text = render(&state, 80, 24);
    // The reference is the right-hand panel; each field and all its values are in it, uncut.
    let panel: String = text
        .lines()
        .filter_map(|l| l.split_once("││").map(|(_, right)| right.to_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let shown = words(&panel.replace('│', " "));
    for f in keyward_core::domain::query::KEY_FIELDS {
        for w in words(f.field).into_iter().chain(words(f.values)) {
            assert!(
                shown.contains(&w),
                "{w:?} of {} is missing:\n{text}",
                f.field
            );
        }
    }
    snapshot("filters_tab_reference_80x24", &text);
}
