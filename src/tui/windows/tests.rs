//! `update` tests of renew and the new secret's one showing with the clipboard, driven by hand-made messages.

use crate::tui::testing::*;
use keyward_core::service::TeamMembership;

// ---------------------------------------------------------------------------------------------
// Renew
// ---------------------------------------------------------------------------------------------

#[test]
fn r_opens_renew_for_the_key_with_the_default_expiry() {
    let mut s = admin_with(2);
    let fx = update(&mut s, ch('r'));
    assert!(fx.is_empty());
    let r = renew(&s);
    assert_eq!(r.key.public_id, public_id(1));
    assert_eq!(r.key.name, "key-001");
    assert_eq!(r.grace.value(), "");
    assert_eq!(r.expires.value(), "90d");
    assert_eq!(r.focus, RenewField::Grace);
    assert_eq!(layer(&s), renew::LAYER);
}

#[test]
fn a_bad_grace_period_is_refused_and_nothing_is_sent() {
    let mut s = admin_with(2);
    update(&mut s, ch('r'));
    type_text(&mut s, "5x");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(renew(&s).error.is_some());
    assert!(!renew(&s).saving);
}

#[test]
fn renewing_asks_for_a_new_secret_with_the_grace_and_the_expiry() {
    let mut s = admin_with(2);
    update(&mut s, ch('r'));
    type_text(&mut s, "2d");
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(renew(&s).focus, RenewField::Expires);
    clear_line(&mut s);
    type_text(&mut s, "30d");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::RenewKey { public_id: id, grace, expires }]
            if *id == public_id(1)
                && grace.as_deref() == Some("2d")
                && expires.as_deref() == Some("30d")),
        "{fx:?}"
    );
    assert!(renew(&s).saving);
    let fx = update(&mut s, Msg::KeyRenewed(Ok(issued(1, "key-001"))));
    assert!(secret(&s).renewed);
    assert!(status_text(&s).contains("Renewed key-001"));
    assert_eq!(key_ref_loads(&fx).len(), 1);
}

#[test]
fn renewing_without_grace_or_expiry_sends_neither() {
    let mut s = admin_with(1);
    update(&mut s, ch('r'));
    update(&mut s, press(KeyCode::Tab));
    clear_line(&mut s);
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::RenewKey {
                grace: None,
                expires: None,
                ..
            }]
        ),
        "{fx:?}"
    );
}

#[test]
fn a_refused_renewal_shows_why_in_the_renew_modal() {
    let mut s = admin_with(1);
    update(&mut s, ch('r'));
    update(&mut s, press(KeyCode::Enter));
    update(
        &mut s,
        Msg::KeyRenewed(Err(Error::conflict("the key was deactivated meanwhile"))),
    );
    let r = renew(&s);
    assert!(!r.saving);
    assert!(r.error.as_deref().is_some_and(|e| e.contains("meanwhile")));
}

#[test]
fn a_deactivated_key_cannot_be_renewed() {
    let mut k = key(1, "old");
    k.status = KeyStatus::Deactivated;
    let mut s = main_with(Role::Admin, vec![k]);
    let fx = update(&mut s, ch('r'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
    assert!(
        status_text(&s).contains("deactivated key cannot be renewed"),
        "{:?}",
        s.status
    );
}

// ---------------------------------------------------------------------------------------------
// New-secret modal and the clipboard
// ---------------------------------------------------------------------------------------------

#[test]
fn c_copies_the_full_secret() {
    let (mut s, id, full) = showing_secret();
    let fx = update(&mut s, ch('c'));
    let [Effect::Copy { public_id, secret }] = fx.as_slice() else {
        panic!("expected Copy, got {fx:?}");
    };
    assert_eq!(*public_id, id);
    assert_eq!(secret.as_str(), full);
}

#[test]
fn a_copy_that_worked_says_which_way_records_it_and_sets_the_clearing_timer() {
    let (mut s, id, _) = showing_secret();
    update(&mut s, ch('c'));
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id.clone(),
            result: Ok(Via::Osc52),
        },
    );
    assert_eq!(secret(&s).copied, Some(Via::Osc52));
    assert!(secret(&s).copy_error.is_none());
    assert_eq!(s.on_clipboard.as_deref(), Some(id.as_str()));
    assert!(status_text(&s).contains("OSC 52"), "{:?}", s.status);
    assert!(status_text(&s).contains("30 s"), "{:?}", s.status);
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::RecordCopied { public_id, via: Via::Osc52 }
            if *public_id == id)
        ),
        "{fx:?}"
    );
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::SetTimer {
                after,
                timer: Timer::ClearClipboard(1)
            } if *after == Duration::from_secs(30)
        )),
        "{fx:?}"
    );
}

#[test]
fn a_copy_that_failed_keeps_the_secret_on_screen_with_the_reason() {
    let (mut s, id, full) = showing_secret();
    update(&mut s, ch('c'));
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Err("no display and not in a terminal that takes OSC 52".into()),
        },
    );
    let n = secret(&s);
    assert!(n.copied.is_none());
    assert!(
        n.copy_error
            .as_deref()
            .is_some_and(|e| e.contains("OSC 52"))
    );
    assert_eq!(n.token.expose(), full);
    assert!(error_status(&s));
    assert!(s.on_clipboard.is_none());
    assert!(quiet(&fx), "no clearing timer, nothing recorded: {fx:?}");
}

#[test]
fn leaving_an_uncopied_secret_asks_first_and_no_returns_to_the_same_secret() {
    let (mut s, id, full) = showing_secret();
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert!(matches!(c.pending, Pending::LeaveSecret));
    assert!(c.lines.join(" ").contains("not be shown again"));
    update(&mut s, ch('n'));
    let n = secret(&s);
    assert_eq!(n.token.expose(), full);
    assert_eq!(n.key.public_id, id);
    update(&mut s, press(KeyCode::Esc));
    let fx = update(&mut s, ch('y'));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn once_copied_esc_closes_the_secret_at_once() {
    let (mut s, id, _) = showing_secret();
    update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::SystemClipboard),
        },
    );
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn the_clipboard_is_cleared_when_its_timer_fires_if_it_still_holds_the_key() {
    let (mut s, id, _) = showing_secret();
    // Nothing of ours on the clipboard: nothing to clear.
    assert!(update(&mut s, Msg::Timer(Timer::ClearClipboard(0))).is_empty());
    update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::TmuxBuffer),
        },
    );
    let fx = update(&mut s, Msg::Timer(Timer::ClearClipboard(1)));
    assert!(matches!(fx.as_slice(), [Effect::ClearClipboard]), "{fx:?}");
    update(&mut s, Msg::ClipboardCleared(Ok(true)));
    assert!(s.on_clipboard.is_none());
    assert!(status_text(&s).contains("Cleared"), "{:?}", s.status);
    assert!(update(&mut s, Msg::Timer(Timer::ClearClipboard(1))).is_empty());
}

#[test]
fn a_clipboard_that_no_longer_holds_the_key_is_left_alone_quietly() {
    let (mut s, id, _) = showing_secret();
    update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::SystemClipboard),
        },
    );
    s.status = None;
    let fx = update(&mut s, Msg::ClipboardCleared(Ok(false)));
    assert!(fx.is_empty());
    assert!(s.status.is_none());
    assert!(s.on_clipboard.is_none());
}

#[test]
fn a_copy_that_lands_after_the_secret_was_left_is_still_recorded_and_cleared() {
    let (mut s, id, _) = showing_secret();
    update(&mut s, ch('c'));
    // The operator presses Esc before the clipboard answered…
    update(&mut s, press(KeyCode::Esc));
    // …and the copy lands while the "leave without copying?" question is up.
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id.clone(),
            result: Ok(Via::SystemClipboard),
        },
    );
    assert_eq!(s.on_clipboard.as_deref(), Some(id.as_str()));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::RecordCopied { .. })),
        "{fx:?}"
    );
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::SetTimer {
                timer: Timer::ClearClipboard(_),
                ..
            }
        )),
        "{fx:?}"
    );
    // Going back shows it as copied.
    update(&mut s, ch('n'));
    assert_eq!(secret(&s).copied, Some(Via::SystemClipboard));

    // Even with the modal gone, a late copy is still cleared.
    let (mut s, id, _) = showing_secret();
    update(&mut s, ch('c'));
    update(&mut s, press(KeyCode::Esc));
    update(&mut s, ch('y'));
    assert!(s.modal.is_none());
    let fx = update(
        &mut s,
        Msg::Copied {
            public_id: id,
            result: Ok(Via::Osc52),
        },
    );
    assert!(s.on_clipboard.is_some());
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            timer: Timer::ClearClipboard(_),
            ..
        }
    )));
}

// ---------------------------------------------------------------------------------------------
// Team picker
// ---------------------------------------------------------------------------------------------

fn render_text(s: &State) -> String {
    crate::tui::snapshot_testing::render(s, 80, 24)
}

/// 5 000 keys match, only the first 40 rows are loaded, all are selected and
/// the picker is open for them; `payments` is on 3 000 of them (most never
/// loaded), `ops` on all, `data` on none.
fn picker_for_many() -> State {
    let all = keys(5_000);
    let mut s = main_with(Role::Admin, Vec::new());
    let generation = s.keys.generation;
    let page = whole_list(&s, generation, Ok(refs_of(&all)));
    update(&mut s, page);
    update(
        &mut s,
        Msg::KeyRows {
            generation,
            now: NOW,
            result: Ok(all[..40].to_vec()),
        },
    );
    update(
        &mut s,
        Msg::Teams(Ok(vec![
            team(1, "payments"),
            team(2, "ops"),
            team(3, "data"),
        ])),
    );
    update(&mut s, ch('a'));
    let fx = update(&mut s, ch('t'));
    let asked: Vec<&Vec<String>> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::LoadTeamMembership(ids) => Some(ids),
            _ => None,
        })
        .collect();
    assert_eq!(asked.len(), 1, "the picker asks the service: {fx:?}");
    let ids = asked[0].clone();
    assert_eq!(ids.len(), 5_000, "by id, loaded or not");
    let mut membership = TeamMembership::default();
    membership
        .teams
        .insert("payments".into(), ids.iter().skip(2_000).cloned().collect());
    membership
        .teams
        .insert("ops".into(), ids.iter().cloned().collect());
    update(
        &mut s,
        Msg::TeamMembership {
            ids,
            result: Ok(membership),
        },
    );
    s
}

#[test]
fn the_picker_shows_all_some_or_none_of_the_selection_from_the_service() {
    let s = picker_for_many();
    let p = picker(&s);
    assert_eq!(p.holders("payments"), Some(3_000));
    assert_eq!(p.holders("ops"), Some(5_000));
    assert_eq!(p.holders("data"), Some(0));
    let text = render_text(&s);
    assert!(text.contains("[~] payments 3000/5000"), "{text}");
    assert!(text.contains("[x] ops"), "{text}");
    assert!(text.contains("[ ] data"), "{text}");
}

#[test]
fn an_answer_for_other_keys_is_not_taken_for_the_selection() {
    let mut s = admin_with(3);
    update(&mut s, ch('t'));
    update(
        &mut s,
        Msg::TeamMembership {
            ids: vec![public_id(2)],
            result: Ok(TeamMembership::default()),
        },
    );
    assert_eq!(picker(&s).membership, None);
}

#[test]
fn space_cycles_some_to_all_to_none_and_back_to_as_is() {
    let mut s = picker_for_many();
    update(&mut s, ch(' '));
    assert_eq!(picker(&s).marks.get("payments"), Some(&Mark::Add));
    assert!(render_text(&s).contains("[x] payments +2000"));
    update(&mut s, ch(' '));
    assert_eq!(picker(&s).marks.get("payments"), Some(&Mark::Remove));
    assert!(render_text(&s).contains("[ ] payments -3000"));
    update(&mut s, ch(' '));
    assert_eq!(picker(&s).marks.get("payments"), None);
    // All have ops: the first Space removes it; none has data: it adds it.
    update(&mut s, ch('j'));
    update(&mut s, ch(' '));
    assert_eq!(picker(&s).marks.get("ops"), Some(&Mark::Remove));
    update(&mut s, ch(' '));
    assert_eq!(picker(&s).marks.get("ops"), None);
    update(&mut s, ch('j'));
    update(&mut s, ch(' '));
    assert_eq!(picker(&s).marks.get("data"), Some(&Mark::Add));
    update(&mut s, ch(' '));
    assert_eq!(picker(&s).marks.get("data"), None);
}

#[test]
fn j_and_k_move_in_the_picker_as_the_arrows_do() {
    let mut s = picker_for_many();
    update(&mut s, ch('j'));
    assert_eq!(picker(&s).cursor, 1);
    update(&mut s, ch('j'));
    update(&mut s, ch('j'));
    assert_eq!(picker(&s).cursor, 2, "the cursor stops at the last team");
    update(&mut s, ch('k'));
    assert_eq!(picker(&s).cursor, 1);
    update(&mut s, press(KeyCode::Up));
    assert_eq!(picker(&s).cursor, 0);
}

#[test]
fn esc_in_the_new_team_field_leaves_it_keeping_the_text_and_a_second_esc_closes() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('/'));
    type_text(&mut s, "platf");
    update(&mut s, press(KeyCode::Esc));
    let p = picker(&s);
    assert!(!p.typing);
    assert_eq!(p.new_team.value(), "platf", "the text stays");
    assert_eq!(layer(&s), team_picker::LAYER);
    // Back in the field, the text goes on where it was.
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "orm");
    assert_eq!(picker(&s).new_team.value(), "platform");
    update(&mut s, press(KeyCode::Esc));
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn the_confirmation_counts_only_the_keys_that_change() {
    let mut s = picker_for_many();
    update(&mut s, ch('+')); // payments: 2 000 lack it
    update(&mut s, press(KeyCode::Enter));
    let c = confirm(&s);
    assert_eq!(c.title, "Change the teams of 2000 keys?");
    let text = c.lines.join("\n");
    assert!(
        text.contains("Add payments to 2000 keys (3000 already in it)."),
        "{text}"
    );
    update(&mut s, ch('n'));
    // Removing ops as well touches every key.
    update(&mut s, ch('j'));
    update(&mut s, ch('-'));
    update(&mut s, press(KeyCode::Enter));
    let c = confirm(&s);
    assert_eq!(c.title, "Change the teams of 5000 keys?");
    assert!(c.lines.join("\n").contains("Remove ops from 5000 keys."));
}

#[test]
fn a_change_no_key_needs_is_not_sent() {
    let mut s = picker_for_many();
    update(&mut s, ch('j'));
    update(&mut s, ch('+')); // every key has ops already
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    let p = picker(&s);
    assert!(
        p.error
            .as_deref()
            .is_some_and(|e| e.contains("no selected key")),
        "{:?}",
        p.error
    );
}

#[test]
fn the_outcome_counts_the_keys_the_service_changed() {
    let mut s = picker_for_many();
    update(&mut s, ch('+'));
    update(&mut s, press(KeyCode::Enter));
    let fx = update(&mut s, ch('y'));
    let [Effect::ChangeTeams { ids, .. }] = fx.as_slice() else {
        panic!("expected ChangeTeams, got {fx:?}");
    };
    assert_eq!(ids.len(), 5_000, "the service skips the keys that have it");
    // The service answers with the keys it changed, and the status counts those.
    update(&mut s, Msg::TeamsChanged(Ok(keys(2_000))));
    assert!(
        status_text(&s).contains("Changed the teams of 2000 keys"),
        "{}",
        status_text(&s)
    );
}

#[test]
fn an_expired_key_is_renewed_without_grace_and_the_form_says_why() {
    let mut s = admin_with(1);
    let id = s.keys.refs[0].id;
    if let Some(k) = s.keys.rows.get_mut(&id) {
        k.status = keyward_core::domain::model::KeyStatus::Expired;
    }
    update(&mut s, ch('r'));
    assert!(renew(&s).expired);
    assert_eq!(renew(&s).focus, RenewField::Expires);
    // Tab does not reach a grace field, and the screen says there is none.
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(renew(&s).focus, RenewField::Expires);
    let screen = crate::tui::snapshot_testing::render(&s, 80, 24);
    assert!(screen.contains("none (expired)"), "{screen}");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::RenewKey { grace: None, .. }]),
        "{fx:?}"
    );
}

#[test]
fn the_team_picker_follows_teams_made_and_removed_elsewhere() {
    use keyward_core::domain::model::Team;
    let team = |name: &str| Team {
        id: 0,
        name: name.into(),
        keys: 0,
        created_at: 0,
    };
    let mut p = crate::tui::windows::team_picker::TeamPicker::new(
        vec!["pub00001".into()],
        &[team("a"), team("gone"), team("marked")],
    );
    p.marks
        .insert("marked".into(), crate::tui::windows::team_picker::Mark::Add);
    p.cursor = 2;
    p.offer(&[team("a"), team("new")]);
    assert_eq!(p.teams, ["a", "marked", "new"]);
    assert!(p.cursor < p.teams.len());
}
