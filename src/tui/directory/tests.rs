//! `update` tests of the Directory tab: reaching it, moving in and between its
//! sections, each change an admin makes and each refusal, and the read-only tab.

use super::form::DirectoryForm;
use super::{Change, Lists, Outcome, Section};
use crate::tui::directory::keymap;
use crate::tui::testing::*;
use crate::tui::windows::confirm::{Confirm, Pending};

fn lists() -> Lists {
    let mut prod = instance(1, "prod");
    prod.active_keys = 2;
    prod.keys = 3;
    let mut bob = developer(2, "prod", "bob");
    bob.active_keys = 2;
    bob.keys = 2;
    let mut admin = operator(Role::Admin);
    admin.login = "ana".into();
    let mut viewer = operator(Role::Viewer);
    viewer.login = "vic".into();
    viewer.name = "Vic Vega".into();
    Lists {
        instances: vec![prod, instance(2, "test")],
        developers: vec![developer(1, "prod", "ana"), bob, developer(3, "test", "cy")],
        teams: vec![team(1, "ops"), team(2, "payments")],
        operators: vec![admin, viewer],
    }
}

/// The Directory tab with its lists loaded, for an operator of this role.
fn directory(role: Role) -> State {
    let mut s = main_with(role, keys(1));
    let fx = update(&mut s, ch('5'));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDirectory)));
    update(&mut s, Msg::Directory(Ok(lists())));
    s
}

fn dir_form(s: &State) -> &DirectoryForm {
    match &s.modal {
        Some(Modal::DirectoryForm(f)) => f,
        other => panic!("expected the directory form, got {other:?}"),
    }
}

fn dir_confirm(s: &State) -> &Confirm {
    match &s.modal {
        Some(Modal::Confirm(c)) if matches!(c.pending, Pending::Directory(_)) => c,
        other => panic!("expected the directory confirmation, got {other:?}"),
    }
}

fn changes(fx: &[Effect]) -> Vec<&Change> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::ChangeDirectory(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn five_and_tab_and_shift_tab_reach_the_directory() {
    let mut s = admin_with(1);
    let fx = update(&mut s, ch('5'));
    assert_eq!(s.tab, Tab::Directory);
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDirectory)));
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(
        s.tab,
        Tab::Keys,
        "Tab after the last tab wraps to the first"
    );
    update(&mut s, press(KeyCode::BackTab));
    assert_eq!(s.tab, Tab::Directory);
    update(&mut s, ch('4'));
    update(&mut s, press(KeyCode::Tab));
    assert_eq!(s.tab, Tab::Directory);
}

#[test]
fn sections_are_walked_with_h_and_l_and_lists_with_j_k_g_g() {
    let mut s = directory(Role::Admin);
    assert_eq!(s.directory.section, Section::Instances);
    update(&mut s, ch('j'));
    assert_eq!(
        s.directory.instance().map(|i| i.name.as_str()),
        Some("test")
    );
    // The developers shown are the selected instance's.
    let names: Vec<&str> = s
        .directory
        .developers()
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["cy"]);
    update(&mut s, ch('g'));
    assert_eq!(
        s.directory.instance().map(|i| i.name.as_str()),
        Some("prod")
    );
    update(&mut s, ch('l'));
    assert_eq!(s.directory.section, Section::Developers);
    update(&mut s, ch('G'));
    assert_eq!(
        s.directory.developer().map(|d| d.name.as_str()),
        Some("bob")
    );
    update(&mut s, press(KeyCode::Up));
    assert_eq!(
        s.directory.developer().map(|d| d.name.as_str()),
        Some("ana")
    );
    update(&mut s, press(KeyCode::Right));
    assert_eq!(s.directory.section, Section::Teams);
    update(&mut s, ch('l'));
    assert_eq!(s.directory.section, Section::Operators);
    update(&mut s, ch('l'));
    assert_eq!(s.directory.section, Section::Instances, "wraps round");
    update(&mut s, ch('h'));
    assert_eq!(s.directory.section, Section::Operators);
    update(&mut s, press(KeyCode::Down));
    assert_eq!(
        s.directory.operator().map(|o| o.login.as_str()),
        Some("vic")
    );
}

#[test]
fn the_keys_to_move_are_in_the_footer_and_help() {
    let s = directory(Role::Admin);
    let hints = layer(&s).hints();
    for want in ["section", "add", "edit", "remove", "help"] {
        assert!(hints.iter().any(|(_, h)| *h == want), "{want}: {hints:?}");
    }
    assert!(
        layer(&s)
            .note
            .contains("instances → developers → teams → operators")
    );
    let does: Vec<&str> = layer(&s).bindings.iter().map(|b| b.does).collect();
    assert!(does.contains(&"next section"));
    assert!(does.contains(&"move down"));
}

#[test]
fn an_admin_adds_an_instance_through_the_form() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('n'));
    assert_eq!(dir_form(&s).title(), " Add an instance ");
    type_text(&mut s, "staging");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "m365");
    update(&mut s, press(KeyCode::Tab));
    update(&mut s, press(KeyCode::Tab));
    clear_line(&mut s);
    type_text(&mut s, "3");
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::AddInstance(spec)] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!(spec.name, "staging");
    assert_eq!(spec.cloud, Cloud::M365);
    assert_eq!(spec.max_active, Some(3));
    assert_eq!(spec.url, None);
    let change = Change::AddInstance(spec.clone());
    let fx = update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert!(s.modal.is_none());
    assert_eq!(status_text(&s), "Added instance staging (m365).");
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDirectory)));
}

#[test]
fn the_cloud_is_chosen_the_limit_replaced_and_every_wrong_field_named() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('n'));
    // Nothing typed, limit cleared: both problems are said at once.
    update(&mut s, press(KeyCode::Tab));
    update(&mut s, press(KeyCode::Tab));
    update(&mut s, press(KeyCode::Tab));
    update(&mut s, press(KeyCode::Backspace));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(changes(&fx).is_empty());
    let error = dir_form(&s).error.clone().unwrap_or_default();
    assert!(error.contains("name is empty"), "{error}");
    assert!(error.contains("limit must be"), "{error}");
    // The proposed limit of 2 is replaced by what is typed, not added to.
    let mut s = directory(Role::Admin);
    update(&mut s, ch('n'));
    type_text(&mut s, "staging");
    update(&mut s, press(KeyCode::Tab));
    // The cloud is a choice: a name that is not one changes nothing, the
    // first letters pick one, and arrows step through them.
    type_text(&mut s, "aws");
    assert_eq!(dir_form(&s).value("Cloud"), "salesforce");
    type_text(&mut s, "se");
    assert_eq!(dir_form(&s).value("Cloud"), "servicenow");
    update(&mut s, press(KeyCode::Right));
    assert_eq!(dir_form(&s).value("Cloud"), "m365");
    update(&mut s, press(KeyCode::Left));
    update(&mut s, press(KeyCode::Left));
    update(&mut s, press(KeyCode::Left));
    assert_eq!(dir_form(&s).value("Cloud"), "other");
    update(&mut s, press(KeyCode::Tab));
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "5");
    assert_eq!(dir_form(&s).value("Limit"), "5");
    type_text(&mut s, "0");
    assert_eq!(dir_form(&s).value("Limit"), "50");
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::AddInstance(spec)] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!((spec.cloud, spec.max_active), (Cloud::Other, Some(50)));
}

#[test]
fn a_refused_save_stays_in_the_form_with_the_service_message() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('n'));
    type_text(&mut s, "prod");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "other");
    let fx = update(&mut s, press(KeyCode::Enter));
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Err(Error::conflict("an instance named prod exists already")),
        },
    );
    let f = dir_form(&s);
    assert_eq!(f.value("Name"), "prod");
    assert!(
        f.error
            .as_deref()
            .is_some_and(|e| e.contains("exists already"))
    );
    assert!(!f.saving);
}

#[test]
fn removing_a_developer_warns_revokes_their_keys_and_takes_only_y() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('l'));
    update(&mut s, ch('j'));
    // The keys to deactivate are read first, and the window names each.
    let fx = update(&mut s, ch('D'));
    assert!(s.modal.is_none());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadDeveloperKeys { instance, name }
            if instance == "prod" && name == "bob")),
        "{fx:?}"
    );
    let bobs = keys(2);
    update(
        &mut s,
        Msg::DeveloperKeys {
            instance: "prod".into(),
            name: "bob".into(),
            result: Ok(bobs.clone()),
        },
    );
    let c = dir_confirm(&s);
    assert_eq!(c.title, "Remove developer bob?");
    let text = c.lines.join("\n");
    assert!(
        text.contains("Their 2 active keys are deactivated first"),
        "{text}"
    );
    for k in &bobs {
        assert!(
            text.contains(&format!("{} (kw_{}", k.name, k.public_id)),
            "{text}"
        );
    }
    assert!(
        text.contains("Integrations using these keys stop working"),
        "{text}"
    );
    // Enter must not confirm an irreversible action.
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(changes(&fx).is_empty());
    dir_confirm(&s);
    let fx = update(&mut s, ch('y'));
    let [Change::RemoveDeveloper { instance, name }] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!((instance.as_str(), name.as_str()), ("prod", "bob"));
    assert!(s.modal.is_none());
    let change = changes(&fx)[0].clone();
    let fx = update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::KeysDeactivated(2)),
        },
    );
    assert_eq!(
        status_text(&s),
        "Removed developer bob from prod. Deactivated 2 keys first."
    );
    // The lists, the keys and the outbox follow.
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDirectory)));
    assert!(!key_ref_loads(&fx).is_empty());
    assert!(fx.iter().any(|e| matches!(e, Effect::Deliver)));
}

#[test]
fn n_or_esc_leaves_a_developer_in_place() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('l'));
    update(&mut s, ch('D'));
    let fx = update(&mut s, ch('n'));
    assert!(changes(&fx).is_empty());
    assert!(s.modal.is_none());
    update(&mut s, ch('D'));
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(changes(&fx).is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn an_admin_adds_an_operator() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('h'));
    assert_eq!(s.directory.section, Section::Operators);
    update(&mut s, ch('n'));
    type_text(&mut s, "ben");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "Ben Ode");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "ben@example.org");
    update(&mut s, press(KeyCode::Tab));
    clear_line(&mut s);
    type_text(&mut s, "manager");
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::AddOperator { login, role, .. }] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!((login.as_str(), *role), ("ben", Role::Manager));
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert_eq!(status_text(&s), "Added operator ben as manager.");
}

#[test]
fn the_last_admin_stays_and_the_service_says_why() {
    let mut s = directory(Role::Admin);
    // The tab shows a second admin, whom another admin has just demoted: the
    // window opens, and the store's refusal is what the admin reads.
    s.directory.lists.operators[1].role = Role::Admin;
    update(&mut s, ch('h'));
    update(&mut s, ch('D'));
    assert_eq!(dir_confirm(&s).title, "Remove operator ana?");
    let fx = update(&mut s, ch('y'));
    let change = changes(&fx)[0].clone();
    let fx = update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Err(Error::conflict(
                "ana is the last admin; add another admin first",
            )),
        },
    );
    assert!(error_status(&s));
    assert_eq!(
        status_text(&s),
        "ana is the last admin; add another admin first"
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDirectory)));
}

#[test]
fn the_teams_section_offers_no_add_it_would_refuse() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('l'));
    update(&mut s, ch('l'));
    assert_eq!(s.directory.section, super::Section::Teams);
    assert_eq!(layer(&s), keymap::TEAMS_LAYER);
    let hints = layer(&s).hints();
    assert!(!hints.iter().any(|(_, h)| *h == "add"), "{hints:?}");
    assert!(hints.iter().any(|(_, h)| *h == "rename"), "{hints:?}");
    update(&mut s, ch('l'));
    assert_eq!(layer(&s), keymap::LAYER);
}

#[test]
fn managers_and_viewers_read_the_tab_without_action_hints() {
    for role in [Role::Manager, Role::Viewer] {
        let mut s = directory(role);
        assert_eq!(layer(&s), keymap::READ_ONLY_LAYER);
        let hints = layer(&s).hints();
        for gone in ["add", "edit", "remove"] {
            assert!(!hints.iter().any(|(_, h)| *h == gone), "{role}: {hints:?}");
        }
        for c in ['n', 'e', 'D'] {
            let fx = update(&mut s, ch(c));
            assert!(changes(&fx).is_empty());
            assert!(s.modal.is_none(), "{role} {c}");
        }
        // Moving still works.
        update(&mut s, ch('j'));
        assert_eq!(
            s.directory.instance().map(|i| i.name.as_str()),
            Some("test")
        );
    }
}

#[test]
fn a_failed_load_says_why() {
    let mut s = main_with(Role::Admin, keys(1));
    update(&mut s, ch('5'));
    update(
        &mut s,
        Msg::Directory(Err(Error::store("the store is locked"))),
    );
    assert!(error_status(&s));
    assert!(!s.directory.loaded);
}

fn form_preview(s: &State) -> String {
    dir_form(s).preview.clone().unwrap_or_default().join("\n")
}

#[test]
fn an_instance_edit_shows_its_effect_on_keys_before_saving() {
    use keyward_core::service::{InstanceEditEffect, IntegrationLoad};
    let mut s = directory(Role::Admin);
    update(&mut s, ch('e'));
    let f = dir_form(&s);
    assert_eq!(f.title(), " Edit instance prod ");
    assert_eq!((f.value("Cloud"), f.value("Limit")), ("salesforce", "2"));
    update(&mut s, press(KeyCode::Tab));
    update(&mut s, press(KeyCode::Tab));
    clear_line(&mut s);
    type_text(&mut s, "1");
    // The first Enter asks what the edit would do, and saves nothing.
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(changes(&fx).is_empty());
    let asked: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::PreviewInstanceEdit { name, edit } => Some((name.clone(), edit.max_active)),
            _ => None,
        })
        .collect();
    assert_eq!(asked, [("prod".to_owned(), Some(1))]);
    let before = s.directory.lists.instances[0].clone();
    let mut after = before.clone();
    after.max_active = 1;
    update(
        &mut s,
        Msg::InstancePreview(Ok(InstanceEditEffect {
            before,
            after,
            keys_changing_cloud: 0,
            over_limit: vec![IntegrationLoad {
                developer: "bob".into(),
                channel: "ci".into(),
                active_keys: 2,
            }],
        })),
    );
    let shown = form_preview(&s);
    assert!(shown.contains("limit: 2 → 1"), "{shown}");
    assert!(
        shown.contains("bob / ci: 2 active, over the new limit of 1"),
        "{shown}"
    );
    // Typing changes what would be saved: the preview goes, Enter asks again.
    type_text(&mut s, "0");
    assert!(dir_form(&s).preview.is_none());
    clear_line(&mut s);
    type_text(&mut s, "1");
    update(&mut s, press(KeyCode::Enter));
    let before = s.directory.lists.instances[0].clone();
    let mut after = before.clone();
    after.max_active = 1;
    update(
        &mut s,
        Msg::InstancePreview(Ok(InstanceEditEffect {
            before,
            after,
            keys_changing_cloud: 0,
            over_limit: vec![],
        })),
    );
    assert!(form_preview(&s).contains("No key changes"));
    // The second Enter saves what was shown.
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::EditInstance { name, edit }] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!(name, "prod");
    assert_eq!(edit.max_active, Some(1));
    assert_eq!(edit.cloud, Some(Cloud::Salesforce));
    let change = changes(&fx)[0].clone();
    let fx = update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert!(s.modal.is_none());
    assert_eq!(status_text(&s), "Saved instance prod.");
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadDirectory)));
}

#[test]
fn a_changed_cloud_names_the_keys_that_follow() {
    use keyward_core::service::InstanceEditEffect;
    let mut s = directory(Role::Admin);
    update(&mut s, ch('e'));
    clear_line(&mut s);
    type_text(&mut s, "m365");
    update(&mut s, press(KeyCode::Enter));
    let before = s.directory.lists.instances[0].clone();
    let mut after = before.clone();
    after.cloud = Cloud::M365;
    update(
        &mut s,
        Msg::InstancePreview(Ok(InstanceEditEffect {
            before,
            after,
            keys_changing_cloud: 3,
            over_limit: vec![],
        })),
    );
    let shown = form_preview(&s);
    assert!(shown.contains("cloud: salesforce → m365"), "{shown}");
    assert!(
        shown.contains("3 keys of this instance change cloud to m365"),
        "{shown}"
    );
}

#[test]
fn an_instance_with_active_keys_is_not_retired_and_the_tab_says_why() {
    let mut s = directory(Role::Admin);
    let fx = update(&mut s, ch('D'));
    assert!(s.modal.is_none());
    assert!(changes(&fx).is_empty());
    assert!(error_status(&s));
    assert!(
        status_text(&s).contains("prod still has 2 keys active"),
        "{}",
        status_text(&s)
    );
    // One with none active asks, and only y retires it.
    update(&mut s, ch('j'));
    update(&mut s, ch('D'));
    assert_eq!(dir_confirm(&s).title, "Retire instance test?");
    assert!(changes(&update(&mut s, press(KeyCode::Enter))).is_empty());
    let fx = update(&mut s, ch('y'));
    let [Change::RetireInstance(name)] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!(name, "test");
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert_eq!(
        status_text(&s),
        "Retired instance test; it takes no new keys."
    );
}

#[test]
fn the_services_refusal_to_retire_is_shown() {
    let mut s = directory(Role::Admin);
    update(
        &mut s,
        Msg::DirectoryChanged {
            change: Change::RetireInstance("test".into()),
            result: Err(Error::conflict(
                "test has 1 active key; deactivate it first",
            )),
        },
    );
    assert!(error_status(&s));
    assert_eq!(
        status_text(&s),
        "test has 1 active key; deactivate it first"
    );
}

#[test]
fn an_admin_adds_and_renames_a_developer_of_the_selected_instance() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('l'));
    update(&mut s, ch('n'));
    assert_eq!(dir_form(&s).title(), " Add a developer to prod ");
    type_text(&mut s, "Dee");
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::AddDeveloper { instance, name }] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!((instance.as_str(), name.as_str()), ("prod", "Dee"));
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert_eq!(status_text(&s), "Added developer Dee to prod.");

    update(&mut s, ch('j'));
    update(&mut s, ch('e'));
    assert_eq!(dir_form(&s).value("New name"), "bob");
    clear_line(&mut s);
    type_text(&mut s, "Bob Marley");
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::RenameDeveloper { instance, name, to }] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!(
        (instance.as_str(), name.as_str(), to.as_str()),
        ("prod", "bob", "Bob Marley")
    );
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert_eq!(
        status_text(&s),
        "Renamed developer bob of prod to Bob Marley."
    );
}

#[test]
fn an_admin_renames_a_team_and_removing_one_says_how_many_keys_it_leaves() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('l'));
    update(&mut s, ch('l'));
    update(&mut s, ch('e'));
    assert_eq!(dir_form(&s).title(), " Rename team ops ");
    clear_line(&mut s);
    type_text(&mut s, "sre");
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::RenameTeam { name, to }] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!((name.as_str(), to.as_str()), ("ops", "sre"));
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert_eq!(status_text(&s), "Renamed team ops to sre.");

    update(&mut s, ch('D'));
    let c = dir_confirm(&s);
    assert_eq!(c.title, "Remove team ops?");
    assert!(
        c.lines[0].starts_with("3 keys leave the team"),
        "{:?}",
        c.lines
    );
    assert!(changes(&update(&mut s, press(KeyCode::Enter))).is_empty());
    let fx = update(&mut s, ch('y'));
    let change = changes(&fx)[0].clone();
    let fx = update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::KeysLeft(3)),
        },
    );
    assert_eq!(status_text(&s), "Removed team ops. 3 keys left without it.");
    // The keys lost a team: the keys list reloads too.
    assert!(!key_ref_loads(&fx).is_empty());
}

#[test]
fn an_admin_changes_a_role_and_the_last_admin_keeps_theirs() {
    let mut s = directory(Role::Admin);
    update(&mut s, ch('h'));
    update(&mut s, ch('j'));
    update(&mut s, ch('e'));
    assert_eq!(dir_form(&s).title(), " Role of vic ");
    // A role is one of three: a word that is none changes nothing.
    type_text(&mut s, "boss");
    assert_eq!(dir_form(&s).value("Role"), "viewer");
    type_text(&mut s, "manager");
    let fx = update(&mut s, press(KeyCode::Enter));
    let [Change::SetRole { login, role }] = changes(&fx)[..] else {
        panic!("{fx:?}");
    };
    assert_eq!((login.as_str(), *role), ("vic", Role::Manager));
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Ok(Outcome::Done),
        },
    );
    assert_eq!(status_text(&s), "vic is now a manager.");

    update(&mut s, ch('k'));
    update(&mut s, ch('e'));
    clear_line(&mut s);
    type_text(&mut s, "viewer");
    let fx = update(&mut s, press(KeyCode::Enter));
    let change = changes(&fx)[0].clone();
    update(
        &mut s,
        Msg::DirectoryChanged {
            change,
            result: Err(Error::conflict(
                "ana is the last admin; make another operator admin first",
            )),
        },
    );
    // The refusal shows in the form and on the status line.
    assert!(
        dir_form(&s)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("last admin"))
    );
    assert!(error_status(&s));
}

#[test]
fn the_last_admin_and_a_retired_instance_are_refused_at_once_not_after_a_y() {
    let mut s = directory(Role::Admin);
    // Operators: ana is the only admin.
    for _ in 0..3 {
        update(&mut s, ch('l'));
    }
    assert_eq!(s.directory.section, super::Section::Operators);
    update(&mut s, ch('D'));
    assert!(s.modal.is_none());
    assert!(
        status_text(&s).contains("last admin"),
        "{}",
        status_text(&s)
    );
    // A retired instance: neither edit nor retire opens a window.
    let mut s = directory(Role::Admin);
    s.directory.lists.instances[0].retired_at = Some(1);
    for c in ['e', 'D'] {
        update(&mut s, ch(c));
        assert!(s.modal.is_none(), "{c}");
        assert!(
            status_text(&s).contains("is retired"),
            "{}",
            status_text(&s)
        );
    }
}

#[test]
fn the_operator_form_names_a_bad_login_and_a_bad_email_at_once() {
    let mut s = directory(Role::Admin);
    for _ in 0..3 {
        update(&mut s, ch('l'));
    }
    update(&mut s, ch('n'));
    assert_eq!(dir_form(&s).title(), " Add an operator ");
    type_text(&mut s, "bad login");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "Bad Login");
    update(&mut s, press(KeyCode::Tab));
    type_text(&mut s, "not-an-address");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(changes(&fx).is_empty());
    let error = dir_form(&s).error.clone().unwrap_or_default();
    assert!(error.contains("login must be"), "{error}");
    assert!(error.contains("email must be"), "{error}");
}
