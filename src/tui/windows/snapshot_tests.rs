//! Snapshots of windows screens at 80×24 and 60×16 (`snapshot_testing` says how).

use crate::tui::snapshot_testing::*;

#[test]
fn hostile_names_in_a_confirmation() {
    let mut state = hostile_state();
    select(&mut state, 11);
    select(&mut state, 12);
    select(&mut state, 13);
    press_planned(&mut state, 'x');
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("hostile_deactivate_confirm", &mut state);
}

#[test]
fn renew_modal() {
    let mut state = keys_state();
    state.keys.cursor = 0;
    press(&mut state, KeyCode::Char('r'));
    assert!(matches!(state.modal, Some(Modal::Renew(_))));
    snap_both("renew_modal", &mut state);
}

#[test]
fn deactivate_confirmation() {
    let mut state = keys_state();
    state.keys.selected.clear();
    state.keys.cursor = 0;
    press_planned(&mut state, 'x');
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("deactivate_confirm", &mut state);
}

#[test]
fn delete_confirmation() {
    let mut state = keys_state();
    press_planned(&mut state, 'D');
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("delete_confirm", &mut state);
}

#[test]
fn delete_confirmation_of_many_keys() {
    let mut state = keys_state();
    state.keys.rows.insert(
        6,
        key(K {
            id: 6,
            name: "zeta sync",
            instance: "acme-prod",
            developer: "ana.silva",
            channel: "cron",
            teams: &[],
            status: KeyStatus::Active,
            expires: Some(200),
            last_used: None,
        }),
    );
    press(&mut state, KeyCode::Char('a'));
    press_planned(&mut state, 'D');
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("delete_confirm_many", &mut state);
}

#[test]
fn new_secret_before_copy() {
    let mut state = secret_state(None, None);
    snap_both("new_secret", &mut state);
}

#[test]
fn new_secret_copied_through_osc52() {
    let mut state = secret_state(Some(Via::Osc52), None);
    state.status = Some(Status {
        text: "Copied the key to the terminal (OSC 52); it is cleared in 30 s.".to_owned(),
        error: false,
        id: 1,
    });
    snap_both("new_secret_copied_osc52", &mut state);
}

#[test]
fn new_secret_copy_failed() {
    let mut state = secret_state(
        None,
        Some("no display, not in tmux, and stdout is no terminal"),
    );
    snap_both("new_secret_copy_error", &mut state);
}

#[test]
fn leave_without_copying() {
    let mut state = secret_state(None, None);
    press(&mut state, KeyCode::Esc);
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("leave_without_copying", &mut state);
}

#[test]
fn team_picker() {
    let mut state = keys_state();
    press(&mut state, KeyCode::Char('t'));
    let Some(Modal::TeamPicker(p)) = &mut state.modal else {
        panic!("no team picker");
    };
    // Of the two keys selected, crm export is in payments and platform,
    // reporting bot in data: each team is on some of them.
    let mut membership = keyward_core::service::TeamMembership::default();
    for (team, key) in [("payments", 2), ("platform", 2), ("data", 5)] {
        membership
            .teams
            .insert(team.to_owned(), [public_id(key)].into_iter().collect());
    }
    let ids = p.ids.clone();
    p.know(&ids, membership);
    p.marks.insert("payments".to_owned(), Mark::Add);
    p.marks.insert("platform".to_owned(), Mark::Remove);
    p.cursor = 1;
    p.new_team = Input::new("billing-ops".to_owned());
    p.typing = true;
    snap_both("team_picker", &mut state);
}

/// A plan of 152 keys: 91 to deactivate, 40 already deactivated, 21 expired.
fn big_plan() -> keyward_core::service::BulkPlan {
    use keyward_core::service::{BulkAction, BulkPlan, PlannedKey, SkipReason};
    let planned = |id: i64, status: KeyStatus| PlannedKey {
        id,
        public_id: format!("kA3f{id:04}"),
        name: format!("integration {id:03}"),
        status,
    };
    BulkPlan {
        action: BulkAction::Deactivate,
        asked: 152,
        apply: (1..=91).map(|i| planned(i, KeyStatus::Active)).collect(),
        skip: (92..=131)
            .map(|i| {
                (
                    planned(i, KeyStatus::Deactivated),
                    SkipReason::AlreadyDeactivated,
                )
            })
            .chain((132..=152).map(|i| (planned(i, KeyStatus::Expired), SkipReason::Expired)))
            .collect(),
    }
}

#[test]
fn a_bulk_deactivation_names_what_it_skips_and_asks_for_the_number() {
    let mut state = keys_state();
    state.modal = Some(Modal::Confirm(Box::new(
        crate::tui::windows::confirm::Confirm::bulk(big_plan()),
    )));
    snap_both("bulk_deactivate_typed_count", &mut state);
    for c in ['9', '0'] {
        press(&mut state, KeyCode::Char(c));
    }
    // Enter does nothing; y with the wrong number says so.
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Char('y'));
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("bulk_deactivate_wrong_count", &mut state);
    // The list scrolls to its end: every key to deactivate and every
    // skipped group is named, the last expired key included.
    for _ in 0..200 {
        press(&mut state, KeyCode::PageDown);
    }
    snap_both("bulk_deactivate_scrolled_to_the_end", &mut state);
}

#[test]
fn the_replacement_offer_after_one_key_is_deactivated() {
    let mut state = keys_state();
    let mut old = state.keys.rows[&1].clone();
    old.status = KeyStatus::Deactivated;
    state.modal = Some(Modal::Confirm(Box::new(
        crate::tui::windows::confirm::Confirm::replacement(old, "90d"),
    )));
    snap_both("replacement_offer", &mut state);
}
