//! `update` tests of the new-key and edit-key form, driven by hand-made messages.

use crate::tui::key_form::{NewDeveloper, new_developer};
use crate::tui::testing::*;

// ---------------------------------------------------------------------------------------------
// New key form
// ---------------------------------------------------------------------------------------------

/// Fills the new-key form through the suggestions, the way an admin would.
fn fill_new_key_form(s: &mut State) {
    type_text(s, "billing");
    update(s, press(KeyCode::Enter)); // → Instance
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // prod → Developer
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // bob → Channel
    type_text(s, "ci");
    update(s, press(KeyCode::Tab)); // → Teams
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // payments,
    update(s, press(KeyCode::Down));
    update(s, press(KeyCode::Enter)); // ops,
    update(s, press(KeyCode::Tab)); // → Expires
}

#[test]
fn n_opens_the_new_key_form_and_loads_its_choices() {
    let mut s = main_with(Role::Manager, keys(3));
    let fx = update(&mut s, ch('n'));
    assert!(matches!(fx.as_slice(), [Effect::LoadFormChoices]), "{fx:?}");
    assert_eq!(layer(&s), key_form::LAYER);
    let f = form(&s);
    assert!(matches!(f.kind, FormKind::Create));
    assert_eq!(f.focus, Field::Name);
    assert_eq!(f.value(Field::Expires), "90d", "the default expiry");
    assert!(f.choices.is_none());
    assert!(!f.is_dirty());
    update(&mut s, Msg::FormChoices(Ok(choices())));
    assert_eq!(
        form(&s).choices.as_ref().map(|c| c.instances.len()),
        Some(2)
    );
}

#[test]
fn with_no_instances_yet_saving_says_so_next_to_instance_and_sends_nothing() {
    let mut s = main_with(Role::Manager, keys(1));
    update(&mut s, ch('n'));
    update(
        &mut s,
        Msg::FormChoices(Ok(FormChoices {
            instances: Vec::new(),
            ..choices()
        })),
    );
    type_text(&mut s, "billing");
    let fx = update(&mut s, ctrl('s'));
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    let error = f.errors[Field::Instance.index()]
        .as_deref()
        .unwrap_or_default();
    assert!(error.contains("no instances yet"), "{error}");
    assert!(!f.saving);
}

#[test]
fn tab_and_shift_tab_move_through_the_form_fields_and_wrap() {
    let mut s = new_key_form();
    for want in [
        Field::Instance,
        Field::Developer,
        Field::Channel,
        Field::Teams,
        Field::Expires,
        Field::Name,
    ] {
        update(&mut s, press(KeyCode::Tab));
        assert_eq!(form(&s).focus, want);
    }
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(form(&s).focus, Field::Expires);
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(form(&s).focus, Field::Teams);
}

#[test]
fn down_and_enter_pick_an_instance_then_only_its_developers_are_offered() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(
        form(&s).focus,
        Field::Instance,
        "Enter moves to the next field"
    );
    assert_eq!(suggestions(form(&s)), vec!["prod", "test"]);
    update(&mut s, press(KeyCode::Down));
    assert_eq!(form(&s).choice, Some(0));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Instance), "prod");
    assert_eq!(form(&s).focus, Field::Developer);
    assert_eq!(suggestions(form(&s)), vec!["ana", "bob"], "not cy of test");
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Down));
    assert_eq!(form(&s).choice, Some(1), "the choice stops at the last one");
    update(&mut s, press(KeyCode::Up));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Developer), "bob");
    assert_eq!(form(&s).focus, Field::Channel);
}

#[test]
fn typing_narrows_the_suggestions() {
    let mut s = new_key_form();
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "te");
    assert_eq!(suggestions(form(&s)), vec!["test"]);
}

#[test]
fn picking_a_team_appends_it_with_a_comma_and_offers_the_rest() {
    let mut s = new_key_form();
    for _ in 0..4 {
        update(&mut s, press(KeyCode::Tab));
    }
    assert_eq!(form(&s).focus, Field::Teams);
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Teams), "payments, ");
    assert_eq!(form(&s).focus, Field::Teams, "more teams may follow");
    assert_eq!(suggestions(form(&s)), vec!["ops"]);
    update(&mut s, press(KeyCode::Down));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).value(Field::Teams), "payments, ops, ");
}

#[test]
fn an_invalid_expiry_is_shown_next_to_expires_and_nothing_is_saved() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    assert_eq!(form(&s).focus, Field::Expires);
    clear_line(&mut s);
    type_text(&mut s, "soon");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    assert!(f.errors[Field::Expires.index()].is_some());
    for field in [
        Field::Name,
        Field::Instance,
        Field::Developer,
        Field::Channel,
        Field::Teams,
    ] {
        assert!(f.errors[field.index()].is_none(), "{field:?}");
    }
    assert!(!f.saving);
    // An expiry in the past is refused too.
    clear_line(&mut s);
    type_text(&mut s, "2020-01-01");
    assert!(update(&mut s, ctrl('s')).is_empty());
    assert!(form(&s).errors[Field::Expires.index()].is_some());
}

#[test]
fn a_valid_form_asks_to_create_the_key_with_what_was_typed() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Effect::CreateKey(req)] = fx.as_slice() else {
        panic!("expected CreateKey, got {fx:?}");
    };
    assert_eq!(req.name, "billing");
    assert_eq!(req.instance, "prod");
    assert_eq!(req.developer, "bob");
    assert_eq!(req.channel, "ci");
    assert_eq!(req.teams, vec!["payments", "ops"]);
    assert_eq!(req.expires.as_deref(), Some("90d"));
    assert!(form(&s).saving);
    // A second Enter while saving sends nothing more, and Esc does not close.
    assert!(update(&mut s, ctrl('s')).is_empty());
    update(&mut s, press(KeyCode::Esc));
    assert!(matches!(s.modal, Some(Modal::Form(_))));
}

#[test]
fn an_instance_typed_in_another_case_is_saved_under_its_own_name() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "PROD");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "ana");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "ci");
    let fx = update(&mut s, ctrl('s'));
    assert!(
        matches!(fx.as_slice(), [Effect::CreateKey(r)] if r.instance == "prod" && r.teams.is_empty()),
        "{fx:?}"
    );
}

#[test]
fn an_unknown_instance_is_refused_next_to_instance() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "staging");
    let fx = update(&mut s, ctrl('s'));
    assert!(fx.is_empty());
    let f = form(&s);
    assert!(f.errors[Field::Instance.index()].is_some());
    assert!(
        f.errors[Field::Developer.index()].is_some(),
        "empty developer"
    );
}

#[test]
fn a_refused_create_keeps_the_form_and_its_input() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    update(&mut s, press(KeyCode::Enter));
    let fx = update(
        &mut s,
        Msg::KeyCreated(Err(Error::conflict(
            "prod/bob/ci already has 2 active keys",
        ))),
    );
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    assert!(
        f.refused
            .as_deref()
            .is_some_and(|r| r.contains("2 active keys"))
    );
    assert!(!f.saving);
    assert_eq!(f.value(Field::Name), "billing");
    assert_eq!(f.value(Field::Developer), "bob");
    assert_eq!(f.value(Field::Teams), "payments, ops, ");
    // Typing again clears the refusal.
    update(&mut s, press(KeyCode::BackTab));
    type_text(&mut s, "x");
    assert!(form(&s).refused.is_none());
}

#[test]
fn a_created_key_shows_its_secret_once_and_reloads_the_list() {
    let mut s = new_key_form();
    fill_new_key_form(&mut s);
    update(&mut s, press(KeyCode::Enter));
    let issued = issued(9, "billing");
    let full = issued.token.expose().to_owned();
    let generation = s.keys.generation;
    let fx = update(&mut s, Msg::KeyCreated(Ok(issued)));
    let n = secret(&s);
    assert!(!n.renewed);
    assert!(n.copied.is_none());
    assert_eq!(n.token.expose(), full);
    assert_eq!(layer(&s), new_secret::LAYER);
    assert!(status_text(&s).contains("Created billing"));
    assert_eq!(key_ref_loads(&fx).len(), 1);
    assert!(s.keys.generation > generation);
}

#[test]
fn esc_on_a_form_with_input_asks_first_and_no_returns_to_the_same_form() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, press(KeyCode::Tab));
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert!(matches!(c.pending, Pending::Discard));
    assert!(c.title.contains("Discard"));
    update(&mut s, ch('n'));
    let f = form(&s);
    assert_eq!(f.value(Field::Name), "billing");
    assert_eq!(f.focus, Field::Instance);
    assert!(f.choices.is_some(), "the loaded choices stay");
    update(&mut s, press(KeyCode::Esc));
    // Enter (the form's "next field" a moment ago) does not throw the input away.
    update(&mut s, press(KeyCode::Enter));
    assert!(matches!(confirm(&s).pending, Pending::Discard));
    let fx = update(&mut s, ch('y'));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(s.modal.is_none());
    assert!(!s.quit);
}

#[test]
fn esc_on_an_untouched_form_closes_it_at_once() {
    let mut s = new_key_form();
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn ctrl_c_on_a_form_with_input_asks_before_quitting() {
    let mut s = new_key_form();
    type_text(&mut s, "billing");
    update(&mut s, ctrl('c'));
    assert!(!s.quit);
    assert!(matches!(confirm(&s).pending, Pending::Quit));
    update(&mut s, ch('n'));
    assert_eq!(form(&s).value(Field::Name), "billing");
    update(&mut s, ctrl('c'));
    update(&mut s, ch('y'));
    assert!(s.quit);
}

#[test]
fn ctrl_c_on_an_untouched_form_quits_at_once() {
    let mut s = new_key_form();
    update(&mut s, ctrl('c'));
    assert!(s.quit);
}

// ---------------------------------------------------------------------------------------------
// Edit form
// ---------------------------------------------------------------------------------------------

#[test]
fn e_opens_the_form_filled_from_the_key() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    let fx = update(&mut s, ch('e'));
    assert!(matches!(fx.as_slice(), [Effect::LoadFormChoices]));
    let f = form(&s);
    assert!(matches!(&f.kind, FormKind::Edit(k) if k.public_id == public_id(1)));
    assert_eq!(f.value(Field::Name), "key-001");
    assert_eq!(f.value(Field::Instance), "prod");
    assert_eq!(f.value(Field::Developer), "ana");
    assert_eq!(f.value(Field::Channel), "ci");
    assert_eq!(f.value(Field::Teams), "payments, ops");
    assert_eq!(f.value(Field::Expires), "2026-09-21");
    assert!(!f.is_dirty());
}

#[test]
fn the_fixed_instance_of_the_edit_form_never_takes_focus() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    // Tab from Name skips the instance; Shift-Tab from Developer skips it too.
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(form(&s).focus, Field::Developer);
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(form(&s).focus, Field::Name);
    // Enter on Name moves on past it as well, so no empty picker ever opens.
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(form(&s).focus, Field::Developer);
    for _ in 0..Field::ALL.len() * 2 {
        update(&mut s, press(KeyCode::Tab));
        assert_ne!(form(&s).focus, Field::Instance);
    }
    type_text(&mut s, "x");
    assert_eq!(form(&s).value(Field::Instance), "prod");
}

#[test]
fn the_new_key_form_still_stops_at_the_instance() {
    let mut s = new_key_form();
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(form(&s).focus, Field::Instance);
}

#[test]
fn a_developer_unknown_to_the_instance_is_named_new_before_save() {
    let mut s = new_key_form();
    update(&mut s, press(KeyCode::Tab)); // → Instance
    type_text(&mut s, "prod");
    update(&mut s, press(KeyCode::Tab)); // → Developer
    assert_eq!(
        new_developer(form(&s)),
        None,
        "an empty field is nothing new"
    );
    type_text(&mut s, "bob");
    assert_eq!(new_developer(form(&s)), None, "bob is a developer of prod");
    type_text(&mut s, "b");
    assert_eq!(
        new_developer(form(&s)),
        Some(NewDeveloper::New),
        "a typo: bobb"
    );
    clear_line(&mut s);
    type_text(&mut s, "cy");
    assert_eq!(
        new_developer(form(&s)),
        Some(NewDeveloper::New),
        "cy belongs to test, not prod"
    );
    clear_line(&mut s);
    type_text(&mut s, "ANA");
    assert_eq!(
        new_developer(form(&s)),
        Some(NewDeveloper::CaseOf("ana".to_owned())),
        "the store keeps names as typed: ANA would be a second developer"
    );
}

#[test]
fn the_edit_form_names_a_changed_developer_new_only_when_it_is() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    assert_eq!(new_developer(form(&s)), None, "the key's own developer");
    update(&mut s, press(KeyCode::Tab)); // → Developer
    clear_line(&mut s);
    type_text(&mut s, "bob");
    assert_eq!(new_developer(form(&s)), None);
    type_text(&mut s, "by");
    assert_eq!(new_developer(form(&s)), Some(NewDeveloper::New));
}

#[test]
fn changing_only_the_name_edits_only_the_name() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    type_text(&mut s, "-v2");
    let fx = update(&mut s, ctrl('s'));
    let [
        Effect::EditKey {
            public_id: id,
            edit,
            teams,
        },
    ] = fx.as_slice()
    else {
        panic!("expected EditKey, got {fx:?}");
    };
    assert_eq!(*id, public_id(1));
    assert_eq!(edit.name.as_deref(), Some("key-001-v2"));
    assert!(edit.developer.is_none());
    assert!(edit.channel.is_none());
    assert!(edit.expires.is_none());
    assert!(teams.add.is_empty() && teams.remove.is_empty());
}

#[test]
fn changing_the_teams_adds_and_removes_only_the_difference() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    update(&mut s, Msg::FormChoices(Ok(choices())));
    // Name → Developer → Channel → Teams: the fixed instance takes no focus.
    for _ in 0..3 {
        update(&mut s, press(KeyCode::Tab));
    }
    assert_eq!(form(&s).focus, Field::Teams);
    clear_line(&mut s);
    type_text(&mut s, "ops, web");
    let fx = update(&mut s, ctrl('s'));
    let [Effect::EditKey { edit, teams, .. }] = fx.as_slice() else {
        panic!("expected EditKey, got {fx:?}");
    };
    assert!(edit.name.is_none());
    assert_eq!(teams.add, vec!["web"]);
    assert_eq!(teams.remove, vec!["payments"]);
}

#[test]
fn a_saved_edit_closes_the_form_and_a_refused_one_keeps_it() {
    let mut s = main_with(Role::Manager, vec![key_with_teams()]);
    update(&mut s, ch('e'));
    type_text(&mut s, "-v2");
    update(&mut s, ctrl('s'));
    update(
        &mut s,
        Msg::KeyEdited(Err(Error::conflict("the name is taken"))),
    );
    assert!(
        form(&s)
            .refused
            .as_deref()
            .is_some_and(|r| r.contains("taken"))
    );
    assert_eq!(form(&s).value(Field::Name), "key-001-v2");
    update(&mut s, ctrl('s'));
    let fx = update(&mut s, Msg::KeyEdited(Ok(key(1, "key-001-v2"))));
    assert!(s.modal.is_none());
    assert!(status_text(&s).contains("Saved key-001-v2"));
    assert_eq!(key_ref_loads(&fx).len(), 1);
}

#[test]
fn a_deleted_key_cannot_be_edited() {
    let mut k = key(1, "gone");
    k.status = KeyStatus::Deleted;
    let mut s = main_with(Role::Manager, vec![k]);
    let fx = update(&mut s, ch('e'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

#[test]
fn an_instance_typed_exactly_is_the_one_used_even_beside_another_case_of_it() {
    use super::named_instance;
    let mut lower = choices().instances[0].clone();
    lower.name = "acme-prod".into();
    let mut upper = lower.clone();
    upper.name = "ACME-PROD".into();
    upper.id += 100;
    // A store from before names were folded: both, the upper one listed first.
    let list = vec![upper.clone(), lower.clone()];
    assert_eq!(
        named_instance(&list, "acme-prod").map(|i| i.id),
        Some(lower.id)
    );
    assert_eq!(
        named_instance(&list, "ACME-PROD").map(|i| i.id),
        Some(upper.id)
    );
    assert_eq!(
        named_instance(&[lower.clone()], "Acme-Prod").map(|i| i.id),
        Some(lower.id)
    );
    assert!(named_instance(&list, "acme").is_none());
}

#[test]
fn a_retired_instance_is_not_offered_and_is_refused_if_typed() {
    let mut s = main_with(Role::Manager, keys(1));
    update(&mut s, ch('n'));
    let mut lists = choices();
    let retired = lists.instances[0].name.clone();
    lists.instances[0].retired_at = Some(1);
    update(&mut s, Msg::FormChoices(Ok(lists)));
    update(&mut s, press(KeyCode::Tab));
    assert!(!suggestions(form(&s)).contains(&retired));
    type_text(&mut s, &retired);
    update(&mut s, ctrl('s'));
    let f = form(&s);
    let said = format!("{:?}", f.errors);
    assert!(said.contains("retired"), "{said}");
}
