//! Snapshots of key form screens at 80×24 and 60×16 (`snapshot_testing` says how).

use crate::tui::snapshot_testing::*;

#[test]
fn new_key_form_without_instances() {
    let mut state = new_form_state(FormChoices::default());
    snap_both("new_key_form_no_instances", &mut state);
}

#[test]
fn new_key_form_with_a_highlighted_suggestion() {
    let mut state = new_form_state(choices());
    let f = form(&mut state);
    f.inputs[0] = Input::new("billing sync".to_owned());
    f.inputs[1] = Input::new("acme-prod".to_owned());
    f.focus = Field::Developer;
    f.inputs[2] = Input::new("b".to_owned());
    f.choice = Some(1);
    snap_both("new_key_form_suggestion", &mut state);
}

#[test]
fn new_key_form_with_validation_errors() {
    let mut state = new_form_state(choices());
    let f = form(&mut state);
    f.inputs[1] = Input::new("acme-staging".to_owned());
    f.inputs[2] = Input::new("ana.silva".to_owned());
    f.inputs[3] = Input::new("ci".to_owned());
    f.inputs[5] = Input::new("soon".to_owned());
    press_ctrl(&mut state, 's');
    assert!(form(&mut state).errors.iter().any(Option::is_some));
    snap_both("new_key_form_errors", &mut state);
}

#[test]
fn new_key_form_refused() {
    let mut state = new_form_state(choices());
    let f = form(&mut state);
    for (i, v) in [
        "billing sync 2",
        "acme-prod",
        "ana.silva",
        "ci",
        "payments",
        "90d",
    ]
    .iter()
    .enumerate()
    {
        f.inputs[i] = Input::new((*v).to_owned());
    }
    f.focus = Field::Expires;
    f.refused = Some(
        Error::Conflict(
            "this integration already has 2 active keys, the limit of instance acme-prod; \
             deactivate one first (rotate: make the new key, move the integration over, \
             deactivate the old one)"
                .to_owned(),
        )
        .to_string(),
    );
    snap_both("new_key_form_refused", &mut state);
}

#[test]
fn edit_key_form() {
    let mut state = keys_state();
    state.keys.cursor = 1;
    press(&mut state, KeyCode::Char('e'));
    update(&mut state, Msg::FormChoices(Ok(choices())));
    assert!(matches!(
        &state.modal,
        Some(Modal::Form(f)) if matches!(f.kind, FormKind::Edit(_))
    ));
    snap_both("edit_key_form", &mut state);
}

#[test]
fn new_key_form_names_a_new_developer() {
    let mut state = new_form_state(choices());
    let f = form(&mut state);
    f.inputs[0] = Input::new("billing sync".to_owned());
    f.inputs[1] = Input::new("acme-prod".to_owned());
    f.inputs[2] = Input::new("integration-bott".to_owned());
    f.focus = Field::Channel;
    snap_both("new_key_form_new_developer", &mut state);
}

#[test]
fn edit_key_form_after_tab_skips_the_fixed_instance() {
    let mut state = keys_state();
    state.keys.cursor = 1;
    press(&mut state, KeyCode::Char('e'));
    update(&mut state, Msg::FormChoices(Ok(choices())));
    press(&mut state, KeyCode::Tab);
    assert_eq!(form(&mut state).focus, Field::Developer);
    snap_both("edit_key_form_tab", &mut state);
}
