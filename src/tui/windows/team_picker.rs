//! The team picker: teams to add to (`+`) or remove from (`-`) every selected
//! key, or a new team typed in; the change asks to confirm, naming its size.

use super::confirm::{Confirm, Pending, count_keys};
use crate::tui::kit::keymap::{Action, Binding, DOWN, ENTER, ESC, Layer, TAB, UP, bind, key};
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{error_line, input_line, place_cursor, safe, window};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::State;
use keyward_core::domain::Name;
use keyward_core::domain::model::Team;
use keyward_core::service::TeamChanges;
use ratatui::Frame;
use ratatui::crossterm::event::Event;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::collections::BTreeMap;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// Whether the team picker adds or removes a team for the whole selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Add,
    Remove,
}

#[derive(Debug)]
pub struct TeamPicker {
    /// Public ids of the keys that change.
    pub ids: Vec<String>,
    pub teams: Vec<String>,
    pub marks: BTreeMap<String, Mark>,
    pub cursor: usize,
    pub new_team: Input,
    pub typing: bool,
    pub error: Option<String>,
}

impl TeamPicker {
    /// The picker for the keys `ids`, offering `teams`.
    pub fn new(ids: Vec<String>, teams: &[Team]) -> TeamPicker {
        TeamPicker {
            ids,
            teams: teams.iter().map(|t| t.name.clone()).collect(),
            marks: BTreeMap::new(),
            cursor: 0,
            new_team: Input::default(),
            typing: false,
            error: None,
        }
    }

    /// Teams made since the picker opened join the list.
    pub fn offer(&mut self, teams: &[Team]) {
        for t in teams {
            if !self.teams.contains(&t.name) {
                self.teams.push(t.name.clone());
            }
        }
    }

    fn apply(&mut self, cx: &mut Cx) {
        if self.marks.is_empty() {
            self.error = Some("mark a team to add (+) or remove (-) first".to_owned());
            return;
        }
        let of = |m: Mark| -> Vec<String> {
            self.marks
                .iter()
                .filter(|(_, v)| **v == m)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let changes = TeamChanges {
            add: of(Mark::Add),
            remove: of(Mark::Remove),
        };
        let n = count_keys(self.ids.len());
        let mut lines = Vec::new();
        if !changes.add.is_empty() {
            lines.push(format!("Add {} to {n}.", changes.add.join(", ")));
        }
        if !changes.remove.is_empty() {
            lines.push(format!("Remove {} from {n}.", changes.remove.join(", ")));
        }
        lines.push("One change, recorded in the history for every key it touches.".into());
        cx.ask(Ask::AskFirst(Confirm {
            title: format!("Change the teams of {n}?"),
            lines,
            pending: Pending::ChangeTeams {
                ids: self.ids.clone(),
                changes,
            },
            back: None,
        }));
    }
}

static TEAM_PICKER: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[UP], Action::Up, "previous team", ""),
    bind(&[DOWN], Action::Down, "next team", ""),
    bind(
        &[key('+'), key(' ')],
        Action::AddMark,
        "add the team to the selection",
        "add",
    ),
    bind(
        &[key('-')],
        Action::RemoveMark,
        "remove the team from the selection",
        "remove",
    ),
    bind(
        &[key('/'), TAB],
        Action::FocusFilter,
        "type a new team's name",
        "new team",
    ),
    bind(&[ENTER], Action::Apply, "apply (asks to confirm)", "apply"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub const LAYER: Layer = Layer {
    name: "teams of the selection",
    bindings: TEAM_PICKER,
    takes_text: false,
    note: "",
};

impl Window for TeamPicker {
    // Typing a new team's name takes the query line's keys.
    fn layers() -> &'static [Layer] {
        &[LAYER, query_line::LAYER]
    }

    fn layer(&self) -> Layer {
        if self.typing {
            query_line::LAYER
        } else {
            LAYER
        }
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        if self.typing {
            match action {
                Action::Apply => add_new_team(self),
                Action::Cancel => {
                    self.typing = false;
                    self.new_team.reset();
                }
                _ => {}
            }
            return;
        }
        let p = self;
        let n = p.teams.len();
        match action {
            Action::Up => p.cursor = p.cursor.saturating_sub(1),
            Action::Down => p.cursor = (p.cursor + 1).min(n.saturating_sub(1)),
            Action::AddMark | Action::RemoveMark => {
                let mark = if action == Action::AddMark {
                    Mark::Add
                } else {
                    Mark::Remove
                };
                if let Some(team) = p.teams.get(p.cursor).cloned() {
                    if p.marks.get(&team) == Some(&mark) {
                        p.marks.remove(&team);
                    } else {
                        p.marks.insert(team, mark);
                    }
                }
            }
            Action::FocusFilter => p.typing = true,
            Action::Cancel => cx.ask(Ask::Close),
            Action::Apply => p.apply(cx),
            _ => {}
        }
    }

    fn type_text(&mut self, event: &Event) {
        if self.typing {
            self.new_team.handle_event(event);
            self.error = None;
        }
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_picker(self, theme, frame);
    }
}

/// The typed team name joins the list, marked to be added.
fn add_new_team(p: &mut TeamPicker) {
    match Name::parse("team", p.new_team.value()) {
        Ok(name) => {
            let name = name.into_string();
            if !p.teams.contains(&name) {
                p.teams.push(name.clone());
            }
            p.cursor = p.teams.iter().position(|t| *t == name).unwrap_or(0);
            p.marks.insert(name, Mark::Add);
            p.new_team.reset();
            p.typing = false;
        }
        Err(e) => p.error = Some(e.to_string()),
    }
}

fn draw_picker(p: &TeamPicker, theme: &Theme, frame: &mut Frame) {
    let n = p.ids.len();
    let inner = window(
        frame,
        60,
        20,
        format!(
            " Teams of {n} selected key{} ",
            if n == 1 { "" } else { "s" }
        ),
    );
    let mut lines = vec![Line::from(Span::styled(
        "+ adds the team to every selected key, - removes it.",
        theme.dim(),
    ))];
    let room = usize::from(inner.height).saturating_sub(4);
    let start = p.cursor.saturating_sub(room.saturating_sub(1));
    for (i, team) in p.teams.iter().enumerate().skip(start).take(room) {
        let mark = match p.marks.get(team) {
            Some(Mark::Add) => "[+]",
            Some(Mark::Remove) => "[-]",
            None => "[ ]",
        };
        let at = i == p.cursor && !p.typing;
        lines.push(Line::from(Span::styled(
            format!("{} {mark} {}", if at { "›" } else { " " }, safe(team)),
            if at { theme.cursor() } else { Style::new() },
        )));
    }
    if p.teams.is_empty() {
        lines.push(Line::from("No teams yet: press / to make one."));
    }
    let input_row = lines.len() as u16;
    lines.push(input_line("New team ", 9, &p.new_team, p.typing, theme));
    if let Some(e) = &p.error {
        lines.push(error_line(e, theme));
    }
    frame.render_widget(Paragraph::new(lines), inner);
    if p.typing {
        place_cursor(frame, inner, input_row, 9, &p.new_team);
    }
}
