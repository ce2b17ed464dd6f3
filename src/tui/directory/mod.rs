//! The Directory tab: what keys hang on — instances, the developers of the
//! selected instance, teams and operators — each a section of the tab. Admins
//! change them through the tab's form and confirmation windows; everyone else
//! reads them, and the tab says why it is read-only.

pub mod confirm;
pub mod form;
pub mod keymap;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
pub mod view;

use crate::tui::kit::keymap::Action;
use crate::tui::kit::paging::step;
use crate::tui::router::{Ask, Cx, Modal};
use crate::tui::state::Effect;
use crate::tui::windows::confirm::{Confirm, count_keys};
use form::DirectoryForm;
use keyward_core::domain::model::{Developer, Instance, Key, Operator, Role, Team};
use keyward_core::error::Error;
use keyward_core::safe_text::escape;
use keyward_core::service::{InstanceEdit, InstanceSpec};

/// The parts of the tab, in the order `l`/`h` walk them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Instances,
    Developers,
    Teams,
    Operators,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Instances,
        Section::Developers,
        Section::Teams,
        Section::Operators,
    ];

    fn index(self) -> usize {
        Section::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Instances => "Instances",
            Section::Developers => "Developers",
            Section::Teams => "Teams",
            Section::Operators => "Operators",
        }
    }
}

/// Everything the tab lists, read in one go from the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lists {
    pub instances: Vec<Instance>,
    /// The developers of every instance; the tab shows the selected instance's.
    pub developers: Vec<Developer>,
    pub teams: Vec<Team>,
    pub operators: Vec<Operator>,
}

/// The Directory tab's state: the lists and a cursor per section.
#[derive(Debug)]
pub struct DirectoryTab {
    pub lists: Lists,
    pub loaded: bool,
    pub section: Section,
    /// A cursor per section, in the order of `Section::ALL`.
    pub cursors: [usize; 4],
}

impl Default for DirectoryTab {
    fn default() -> DirectoryTab {
        DirectoryTab {
            lists: Lists::default(),
            loaded: false,
            section: Section::Instances,
            cursors: [0; 4],
        }
    }
}

impl DirectoryTab {
    pub fn cursor(&self, section: Section) -> usize {
        self.cursors[section.index()]
    }

    /// The instance under the instances' cursor, whose developers are shown.
    pub fn instance(&self) -> Option<&Instance> {
        self.lists.instances.get(self.cursor(Section::Instances))
    }

    /// The developers of the selected instance.
    pub fn developers(&self) -> Vec<&Developer> {
        let Some(inst) = self.instance() else {
            return Vec::new();
        };
        self.lists
            .developers
            .iter()
            .filter(|d| d.instance == inst.name)
            .collect()
    }

    pub fn developer(&self) -> Option<&Developer> {
        self.developers()
            .get(self.cursor(Section::Developers))
            .copied()
    }

    pub fn team(&self) -> Option<&Team> {
        self.lists.teams.get(self.cursor(Section::Teams))
    }

    pub fn operator(&self) -> Option<&Operator> {
        self.lists.operators.get(self.cursor(Section::Operators))
    }

    /// How many rows the section holds now.
    pub fn len(&self, section: Section) -> usize {
        match section {
            Section::Instances => self.lists.instances.len(),
            Section::Developers => self.developers().len(),
            Section::Teams => self.lists.teams.len(),
            Section::Operators => self.lists.operators.len(),
        }
    }

    fn clamp_cursors(&mut self) {
        for section in Section::ALL {
            let len = self.len(section);
            let c = &mut self.cursors[section.index()];
            *c = (*c).min(len.saturating_sub(1));
        }
    }
}

/// A change an admin makes on the tab: one service operation each.
#[derive(Clone, Debug)]
pub enum Change {
    AddInstance(InstanceSpec),
    EditInstance {
        name: String,
        edit: InstanceEdit,
    },
    RetireInstance(String),
    AddDeveloper {
        instance: String,
        name: String,
    },
    RenameDeveloper {
        instance: String,
        name: String,
        to: String,
    },
    RemoveDeveloper {
        instance: String,
        name: String,
    },
    RenameTeam {
        name: String,
        to: String,
    },
    RemoveTeam(String),
    SetRole {
        login: String,
        role: Role,
    },
    AddOperator {
        login: String,
        name: String,
        email: String,
        role: Role,
    },
    RemoveOperator(String),
}

/// What a saved change did beyond itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Keys that were deactivated first (a removed developer's).
    KeysDeactivated(usize),
    /// Keys that lost a removed team.
    KeysLeft(usize),
}

impl Change {
    /// The status line's sentence for the change, once saved.
    fn done(&self, outcome: &Outcome) -> String {
        let said = match self {
            Change::AddInstance(spec) => format!(
                "Added instance {} ({}).",
                escape(&spec.name),
                spec.cloud.as_str()
            ),
            Change::EditInstance { name, .. } => format!("Saved instance {}.", escape(name)),
            Change::RetireInstance(name) => {
                format!("Retired instance {}; it takes no new keys.", escape(name))
            }
            Change::AddDeveloper { instance, name } => {
                format!("Added developer {} to {}.", escape(name), escape(instance))
            }
            Change::RenameDeveloper { instance, name, to } => format!(
                "Renamed developer {} of {} to {}.",
                escape(name),
                escape(instance),
                escape(to)
            ),
            Change::RenameTeam { name, to } => {
                format!("Renamed team {} to {}.", escape(name), escape(to))
            }
            Change::RemoveTeam(name) => format!("Removed team {}.", escape(name)),
            Change::SetRole { login, role } => {
                format!("{} is now a {role}.", escape(login))
            }
            Change::RemoveDeveloper { instance, name } => {
                format!(
                    "Removed developer {} from {}.",
                    escape(name),
                    escape(instance)
                )
            }
            Change::AddOperator { login, role, .. } => {
                format!("Added operator {} as {role}.", escape(login))
            }
            Change::RemoveOperator(login) => format!("Removed operator {}.", escape(login)),
        };
        match outcome {
            Outcome::Done => said,
            Outcome::KeysDeactivated(0) => said,
            Outcome::KeysDeactivated(n) => {
                format!("{said} Deactivated {} first.", count_keys(*n))
            }
            Outcome::KeysLeft(n) => format!("{said} {} left without it.", count_keys(*n)),
        }
    }

    /// Whether the change touched keys: the keys list and the outbox follow.
    fn touches_keys(&self, outcome: &Outcome) -> bool {
        match outcome {
            Outcome::Done => matches!(self, Change::EditInstance { .. }),
            Outcome::KeysDeactivated(n) | Outcome::KeysLeft(n) => *n > 0,
        }
    }

    /// Whether the change queued notifications (deactivated keys).
    fn notifies(&self, outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::KeysDeactivated(n) if *n > 0)
    }
}

/// What an instance edit would do, from the store: shown in the form that asked.
pub fn on_preview(
    modal: &mut Option<Modal>,
    result: Result<keyward_core::service::InstanceEditEffect, Error>,
) {
    if let Some(Modal::DirectoryForm(f)) = modal {
        match result {
            Ok(effect) => f.previewed(&effect),
            Err(e) => f.refuse(&e),
        }
    }
}

/// The lists the store read.
pub fn on_lists(d: &mut DirectoryTab, result: Result<Lists, Error>, cx: &mut Cx) {
    match result {
        Ok(lists) => {
            d.lists = lists;
            d.loaded = true;
            d.clamp_cursors();
        }
        Err(e) => cx.fail(&e),
    }
}

/// A change was saved, or refused: the status line says which; on success the
/// window closes and the lists (and the keys, when it touched keys) reload; a
/// refusal shows in the form that asked, keeping what was typed.
pub fn on_changed(
    modal: &mut Option<Modal>,
    change: Change,
    result: Result<Outcome, Error>,
    cx: &mut Cx,
) {
    match result {
        Ok(outcome) => {
            if matches!(modal, Some(Modal::DirectoryForm(_))) {
                cx.ask(Ask::Close);
            }
            cx.say(change.done(&outcome));
            cx.effect(Effect::LoadDirectory);
            if change.touches_keys(&outcome) {
                cx.ask(Ask::Refresh);
            }
            if change.notifies(&outcome) {
                cx.ask(Ask::Deliver);
            }
        }
        Err(e) => {
            if let Some(Modal::DirectoryForm(f)) = modal {
                f.refuse(&e);
            }
            cx.fail(&e);
            // What was refused may be out of date: show the store as it is.
            cx.effect(Effect::LoadDirectory);
        }
    }
}

pub fn move_cursor(d: &mut DirectoryTab, by: isize) {
    let section = d.section;
    let len = d.len(section);
    let c = &mut d.cursors[section.index()];
    *c = step(*c, by, len);
    if section == Section::Instances {
        // Another instance: its developers from the top.
        d.cursors[Section::Developers.index()] = 0;
    }
}

/// What a key does on the tab.
pub fn act(d: &mut DirectoryTab, action: Action, cx: &mut Cx) {
    match action {
        Action::Up => move_cursor(d, -1),
        Action::Down => move_cursor(d, 1),
        Action::PageUp => move_cursor(d, -10),
        Action::PageDown => move_cursor(d, 10),
        Action::Top => move_cursor(d, isize::MIN / 2),
        Action::Bottom => move_cursor(d, isize::MAX / 2),
        Action::NextSection => d.section = Section::ALL[(d.section.index() + 1) % 4],
        Action::PrevSection => d.section = Section::ALL[(d.section.index() + 3) % 4],
        // The read-only layer binds none of these; the service checks again.
        Action::New | Action::Edit | Action::Delete
            if cx.may(Role::Admin, "changing the directory") =>
        {
            change(d, action, cx)
        }
        _ => {}
    }
}

/// `n`, `e` or `D` on the section under the cursor.
fn change(d: &DirectoryTab, action: Action, cx: &mut Cx) {
    match (d.section, action) {
        (Section::Instances, Action::New) => open(cx, DirectoryForm::add_instance()),
        (Section::Operators, Action::New) => open(cx, DirectoryForm::add_operator()),
        (Section::Developers, Action::New) => match d.instance() {
            Some(inst) => open(cx, DirectoryForm::add_developer(&inst.name)),
            None => cx.warn("Add an instance first: developers belong to one.".to_owned()),
        },
        (Section::Instances, Action::Edit | Action::Delete)
            if d.instance().is_some_and(Instance::is_retired) =>
        {
            cx.warn("This instance is retired: it takes no new keys and does not change.".to_owned())
        }
        (Section::Instances, Action::Edit) => match d.instance() {
            Some(inst) => open(cx, DirectoryForm::edit_instance(inst)),
            None => cx.warn("No instance here to edit.".to_owned()),
        },
        (Section::Instances, Action::Delete) => match d.instance() {
            Some(inst) if inst.active_keys > 0 => cx.warn(format!(
                "{} still has {} active; an instance is retired only when none is (deactivate or let them expire first).",
                escape(&inst.name),
                count_keys(inst.active_keys as usize)
            )),
            Some(inst) => open_confirm(cx, confirm::retire_instance(inst)),
            None => cx.warn("No instance here to retire.".to_owned()),
        },
        (Section::Developers, Action::Edit) => match (d.instance(), d.developer()) {
            (Some(inst), Some(dev)) => {
                open(cx, DirectoryForm::rename_developer(&inst.name, &dev.name))
            }
            _ => cx.warn("No developer here to rename.".to_owned()),
        },
        (Section::Teams, Action::Edit) => match d.team() {
            Some(team) => open(cx, DirectoryForm::rename_team(&team.name)),
            None => cx.warn("No team here to rename.".to_owned()),
        },
        (Section::Teams, Action::Delete) => match d.team() {
            Some(team) => open_confirm(cx, confirm::remove_team(team)),
            None => cx.warn("No team here to remove.".to_owned()),
        },
        (Section::Operators, Action::Edit) => match d.operator() {
            Some(op) => open(cx, DirectoryForm::change_role(op)),
            None => cx.warn("No operator here.".to_owned()),
        },
        (Section::Teams, Action::New) => cx.warn(
            "Teams are made where one is picked: in the key form or with t on the Keys tab."
                .to_owned(),
        ),
        (Section::Developers, Action::Delete) => match (d.instance(), d.developer()) {
            // The keys to deactivate are read first, so the window names them.
            (Some(_), Some(dev)) if dev.active_keys > 0 => cx.effect(Effect::LoadDeveloperKeys {
                instance: dev.instance.clone(),
                name: dev.name.clone(),
            }),
            (Some(inst), Some(dev)) => open_confirm(cx, confirm::remove_developer(inst, dev, &[])),
            _ => cx.warn("No developer here to remove.".to_owned()),
        },
        (Section::Operators, Action::Delete) => match d.operator() {
            // The store always keeps an admin: said now, not after a y.
            Some(op)
                if op.role == Role::Admin
                    && d.lists.operators.iter().filter(|o| o.role == Role::Admin).count() == 1 =>
            {
                cx.warn(format!(
                    "{} is the last admin; make another operator admin first (e on their row).",
                    escape(&op.login)
                ))
            }
            Some(op) => open_confirm(cx, confirm::remove_operator(op)),
            None => cx.warn("No operator here to remove.".to_owned()),
        },
        _ => {}
    }
}

fn open(cx: &mut Cx, form: DirectoryForm) {
    cx.ask(Ask::Open(Modal::DirectoryForm(Box::new(form))));
}

fn open_confirm(cx: &mut Cx, confirm: Confirm) {
    cx.ask(Ask::Open(Modal::Confirm(Box::new(confirm))));
}

/// The active keys of the developer the admin asked to remove: the
/// confirmation opens naming them, if that developer is still the one shown.
pub fn on_developer_keys(
    d: &DirectoryTab,
    instance: &str,
    name: &str,
    result: Result<Vec<Key>, Error>,
    cx: &mut Cx,
) {
    match result {
        Ok(keys) => match (d.instance(), d.developer()) {
            (Some(inst), Some(dev)) if inst.name == instance && dev.name == name => {
                open_confirm(cx, confirm::remove_developer(inst, dev, &keys));
            }
            _ => {}
        },
        Err(e) => cx.fail(&e),
    }
}
