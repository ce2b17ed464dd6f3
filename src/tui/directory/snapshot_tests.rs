//! Snapshots of the Directory tab at 80×24 and 120×34, for an admin and a
//! viewer, and of its windows (`snapshot_testing` says how).

use crate::tui::directory::form::DirectoryForm;
use crate::tui::directory::{Lists, Section};
use crate::tui::snapshot_testing::*;

fn lists() -> Lists {
    let instance = |id: i64, name: &str, cloud: Cloud, url: Option<&str>, active, keys| Instance {
        id,
        name: name.to_owned(),
        cloud,
        url: url.map(str::to_owned),
        max_active: 2,
        created_at: NOW - 100 * DAY,
        active_keys: active,
        keys,
        retired_at: None,
    };
    let developer = |id: i64, instance: &str, name: &str, active, keys| Developer {
        id,
        instance: instance.to_owned(),
        name: name.to_owned(),
        active_keys: active,
        keys,
    };
    let mut viewer = operator("vic", "Vic Vega");
    viewer.role = Role::Viewer;
    let mut manager = operator("mo", "Mo Salah");
    manager.role = Role::Manager;
    Lists {
        instances: vec![
            instance(
                1,
                "acme-prod",
                Cloud::Salesforce,
                Some("https://acme.my.salesforce.com"),
                12,
                20,
            ),
            instance(2, "helpdesk", Cloud::Servicenow, None, 3, 4),
            instance(3, "surveys", Cloud::Qualtrics, None, 0, 0),
        ],
        developers: vec![
            developer(1, "acme-prod", "Ana Silva", 4, 6),
            developer(2, "acme-prod", "ci-bot", 8, 14),
            developer(3, "helpdesk", "Bo Chen", 3, 4),
        ],
        teams: teams(),
        operators: vec![operator("ana", "Ana Silva"), manager, viewer],
    }
}

fn directory_state(role: Role) -> State {
    let mut state = main_state();
    if let Some(me) = &mut state.me {
        me.role = role;
    }
    state.tab = Tab::Directory;
    state.directory.lists = lists();
    state.directory.loaded = true;
    state
}

fn snap_sizes(name: &str, state: &mut State) {
    for (w, h) in [(80, 24), (120, 34)] {
        state.width = w;
        state.height = h;
        let text = render(state, w, h);
        snapshot(&format!("{name}_{w}x{h}"), &text);
    }
}

#[test]
fn directory_tab_for_an_admin() {
    let mut state = directory_state(Role::Admin);
    snap_sizes("directory_admin", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("5 Directory"), "{text}");
    assert!(text.contains("Developers of acme-prod"), "{text}");
}

#[test]
fn directory_tab_for_a_viewer() {
    let mut state = directory_state(Role::Viewer);
    state.directory.section = Section::Operators;
    snap_sizes("directory_viewer", &mut state);
    let text = render(&state, 120, 34);
    assert!(text.contains("Read-only: you are a viewer"), "{text}");
    assert!(!text.contains("remove"), "{text}");
}

#[test]
fn directory_help() {
    let mut state = directory_state(Role::Admin);
    state.help = true;
    snap_sizes("directory_help", &mut state);
}

#[test]
fn add_instance_form() {
    let mut state = directory_state(Role::Admin);
    state.modal = Some(Modal::DirectoryForm(
        Box::new(DirectoryForm::add_instance()),
    ));
    snap_sizes("directory_add_instance", &mut state);
}

#[test]
fn remove_developer_confirmation() {
    let mut state = directory_state(Role::Admin);
    let (inst, dev) = (
        state.directory.lists.instances[0].clone(),
        state.directory.lists.developers[1].clone(),
    );
    let keys: Vec<_> = sample_keys().into_iter().take(2).collect();
    state.modal = Some(Modal::Confirm(Box::new(
        crate::tui::directory::confirm::remove_developer(&inst, &dev, &keys),
    )));
    snap_sizes("directory_remove_developer", &mut state);
}
