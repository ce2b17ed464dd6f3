//! The Directory tab's confirmation: retiring an instance, removing a
//! developer (whose keys are deactivated first), a team or an operator. These
//! cannot be taken back, so only `y` confirms; Enter does nothing here.

use super::Change;
use crate::tui::kit::keymap::{Action, Binding, ESC, Layer, bind, key};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{safe, window, wrapped_height};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use crate::tui::windows::confirm::{DEACTIVATION_WARNINGS, count_keys};
use keyward_core::domain::model::{Developer, Instance, Operator, Team};
use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

#[derive(Debug)]
pub struct DirectoryConfirm {
    pub title: String,
    pub lines: Vec<String>,
    pub change: Change,
}

impl DirectoryConfirm {
    /// Removing a developer: their active keys are deactivated first, with the
    /// deactivation warnings.
    pub fn remove_developer(instance: &Instance, dev: &Developer) -> DirectoryConfirm {
        let mut lines = vec![format!(
            "{} leaves the developers of {}; their keys' history stays.",
            dev.name, instance.name
        )];
        if dev.active_keys > 0 {
            lines.push(format!(
                "Their {} active {} deactivated first:",
                dev.active_keys,
                if dev.active_keys == 1 {
                    "key is"
                } else {
                    "keys are"
                }
            ));
            lines.extend(DEACTIVATION_WARNINGS.iter().map(|w| format!("! {w}")));
        } else {
            lines.push("They have no active key.".to_owned());
        }
        DirectoryConfirm {
            title: format!("Remove developer {}?", dev.name),
            lines,
            change: Change::RemoveDeveloper {
                instance: instance.name.clone(),
                name: dev.name.clone(),
            },
        }
    }

    /// Retiring an instance with no active key (the tab refuses one with any).
    pub fn retire_instance(inst: &Instance) -> DirectoryConfirm {
        DirectoryConfirm {
            title: format!("Retire instance {}?", inst.name),
            lines: vec![
                format!(
                    "{} takes no new keys once retired, and cannot be changed again.",
                    inst.name
                ),
                format!(
                    "None of its {} is active; their history stays.",
                    count_keys(inst.keys as usize)
                ),
            ],
            change: Change::RetireInstance(inst.name.clone()),
        }
    }

    /// Removing a team: says how many keys it leaves without it.
    pub fn remove_team(team: &Team) -> DirectoryConfirm {
        DirectoryConfirm {
            title: format!("Remove team {}?", team.name),
            lines: vec![
                format!(
                    "{} leave{} the team; the keys themselves stay as they are.",
                    count_keys(team.keys as usize),
                    if team.keys == 1 { "s" } else { "" }
                ),
                "Each key's history records the change.".to_owned(),
            ],
            change: Change::RemoveTeam(team.name.clone()),
        }
    }

    pub fn remove_operator(op: &Operator) -> DirectoryConfirm {
        DirectoryConfirm {
            title: format!("Remove operator {}?", op.login),
            lines: vec![
                format!(
                    "{} ({}, {}) can no longer use keyward on this store.",
                    op.name, op.email, op.role
                ),
                "Their history stays.".to_owned(),
            ],
            change: Change::RemoveOperator(op.login.clone()),
        }
    }
}

static CONFIRM: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(
        &[key('y')],
        Action::Confirm,
        "yes, do it (Enter does not)",
        "yes",
    ),
    bind(&[key('n'), ESC], Action::Cancel, "no, leave it", "no"),
];

pub const LAYER: Layer = Layer {
    name: "directory confirmation",
    bindings: CONFIRM,
    takes_text: false,
    note: "This cannot be undone: only y confirms, never Enter.",
};

impl Window for DirectoryConfirm {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        cx.ask(Ask::Close);
        if action == Action::Confirm {
            cx.effect(Effect::ChangeDirectory(self.change.clone()));
        }
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        let mut lines: Vec<Line> = self
            .lines
            .iter()
            .map(|l| {
                let style = if l.starts_with('!') {
                    theme.warning()
                } else {
                    Style::new()
                };
                Line::from(Span::styled(safe(l), style))
            })
            .collect();
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "y: yes, do it · n / Esc: no · Enter does not confirm",
            theme.key(),
        )));
        let width = 74.min(frame.area().width);
        let height = wrapped_height(&lines, width.saturating_sub(4)) + 3;
        let inner = window(frame, width, height, format!(" {} ", safe(&self.title)));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}
