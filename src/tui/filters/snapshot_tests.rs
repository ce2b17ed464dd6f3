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
