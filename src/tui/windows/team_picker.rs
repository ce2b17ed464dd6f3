//! The team picker: for each team whether all (`[x]`), some (`[~]`, with the
//! count) or none (`[ ]`) of the selected keys have it, read from the service
//! by key id; teams to add to or remove from every selected key, or a new team
//! typed in; the change asks to confirm, counting only the keys it changes.

use super::confirm::{Confirm, Pending, count_keys};
use crate::tui::kit::keymap::{Action, Binding, DOWN, ENTER, ESC, Layer, TAB, UP, bind, key};
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{error_line, input_line, place_cursor, safe, window};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::State;
use keyward_core::domain::Name;
use keyward_core::domain::model::Team;
use keyward_core::service::{TeamChanges, TeamMembership};
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
    /// Which teams the keys are in, once the service has said.
    pub membership: Option<TeamMembership>,
    pub cursor: usize,
    pub new_team: Input,
    pub typing: bool,
    pub error: Option<String>,
    /// The key's name when the picker changes one key (the cursor's, with
    /// nothing selected): the title names it rather than "1 selected key".
    pub one: Option<String>,
}

impl TeamPicker {
    /// The picker for the keys `ids`, offering `teams`.
    pub fn new(ids: Vec<String>, teams: &[Team]) -> TeamPicker {
        TeamPicker {
            ids,
            teams: teams.iter().map(|t| t.name.clone()).collect(),
            marks: BTreeMap::new(),
            membership: None,
            cursor: 0,
            new_team: Input::default(),
            typing: false,
            error: None,
            one: None,
        }
    }

    /// The store's teams now: those made since the picker opened join the
    /// list, and those removed elsewhere leave it unless marked (a marked one
    /// is added again, as a new team, and the confirmation says so).
    pub fn offer(&mut self, teams: &[Team]) {
        let marks = &self.marks;
        self.teams
            .retain(|t| marks.contains_key(t) || teams.iter().any(|x| x.name == *t));
        self.cursor = self.cursor.min(self.teams.len().saturating_sub(1));
        for t in teams {
            if !self.teams.contains(&t.name) {
                self.teams.push(t.name.clone());
            }
        }
    }

    /// The service's answer, if it is for these keys (not an earlier picker's).
    pub fn know(&mut self, ids: &[String], membership: TeamMembership) {
        if ids == self.ids.as_slice() {
            self.membership = Some(membership);
        }
    }

    /// How many of the selected keys have `team`, once known.
    pub fn holders(&self, team: &str) -> Option<usize> {
        self.membership.as_ref().map(|m| m.count(team))
    }

    /// What the selection has of `team` as it stands.
    fn held(&self, team: &str) -> Held {
        match self.holders(team) {
            None => Held::Unknown,
            Some(0) => Held::None,
            Some(n) if n >= self.ids.len() => Held::All,
            Some(_) => Held::Some,
        }
    }

    /// Space cycles through what makes sense for the team: some → add to all
    /// → remove from all → as is; all → remove → as is; none → add → as is.
    fn cycle(&mut self) {
        let Some(team) = self.teams.get(self.cursor).cloned() else {
            return;
        };
        let held = self.held(&team);
        let next = match (self.marks.get(&team), held) {
            (None, Held::All) => Some(Mark::Remove),
            (None, _) => Some(Mark::Add),
            (Some(Mark::Add), Held::Some | Held::Unknown) => Some(Mark::Remove),
            (Some(_), _) => None,
        };
        match next {
            Some(m) => self.marks.insert(team, m),
            None => self.marks.remove(&team),
        };
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
        let total = self.ids.len();
        let mut lines = Vec::new();
        let changing = match &self.membership {
            Some(m) => {
                for team in &changes.add {
                    let have = m.count(team);
                    let mut line = format!("Add {team} to {}.", count_keys(total - have));
                    if have > 0 {
                        line.pop();
                        line.push_str(&format!(" ({have} already in it)."));
                    }
                    lines.push(line);
                }
                for team in &changes.remove {
                    lines.push(format!("Remove {team} from {}.", count_keys(m.count(team))));
                }
                m.changed_by(&self.ids, &changes)
            }
            // Not known yet: the service still changes only the keys that
            // need it, and the outcome counts them.
            None => {
                let n = count_keys(total);
                if !changes.add.is_empty() {
                    lines.push(format!("Add {} to up to {n}.", changes.add.join(", ")));
                }
                if !changes.remove.is_empty() {
                    lines.push(format!(
                        "Remove {} from up to {n}.",
                        changes.remove.join(", ")
                    ));
                }
                total
            }
        };
        if changing == 0 {
            self.error = Some("no selected key would change: they all have it already".to_owned());
            return;
        }
        let n = count_keys(changing);
        // The confirmation escapes its lines when it draws them.
        lines.push("One change, recorded in the history for every key it touches.".into());
        cx.ask(Ask::AskFirst(Confirm {
            title: format!("Change the teams of {n}?"),
            lines,
            pending: Pending::ChangeTeams {
                ids: self.ids.clone(),
                changes,
            },
            back: None,
            scroll: 0,
        }));
    }
}

static TEAM_PICKER: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[UP, key('k')], Action::Up, "previous team", ""),
    bind(&[DOWN, key('j')], Action::Down, "next team", ""),
    bind(
        &[key(' ')],
        Action::Select,
        "cycle: add to all, remove from all, leave as is",
        "change",
    ),
    bind(
        &[key('+')],
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
                // Leaves the field, keeping what was typed; a second Esc closes.
                Action::Cancel => self.typing = false,
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
            Action::Select => p.cycle(),
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

/// What a selection has of a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    All,
    Some,
    None,
    /// The service has not said yet.
    Unknown,
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
        match &p.one {
            Some(name) => format!(" Teams of {} ", safe(name)),
            None => format!(
                " Teams of {n} selected key{} ",
                if n == 1 { "" } else { "s" }
            ),
        },
    );
    let hint = if p.membership.is_some() {
        "[x] all have it, [~] some, [ ] none. Space changes it."
    } else {
        "Reading which teams the keys have…"
    };
    let mut lines = vec![Line::from(Span::styled(hint, theme.dim()))];
    let room = usize::from(inner.height).saturating_sub(4);
    let start = p.cursor.saturating_sub(room.saturating_sub(1));
    for (i, team) in p.teams.iter().enumerate().skip(start).take(room) {
        let at = i == p.cursor && !p.typing;
        lines.push(Line::from(Span::styled(
            format!("{} {}", if at { "›" } else { " " }, team_line(p, team)),
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

/// `[~] payments 3/7` as it stands, `[x] payments +4` or `[ ] payments -3`
/// once marked: the box shows what the selection will have, the number how
/// many keys change.
fn team_line(p: &TeamPicker, team: &str) -> String {
    let n = p.ids.len();
    let name = safe(team);
    let have = p.holders(team);
    match (p.marks.get(team), p.held(team)) {
        (Some(Mark::Add), _) => match have {
            Some(h) => format!("[x] {name} +{}", n - h.min(n)),
            None => format!("[x] {name} (add)"),
        },
        (Some(Mark::Remove), _) => match have {
            Some(h) => format!("[ ] {name} -{h}"),
            None => format!("[ ] {name} (remove)"),
        },
        (None, Held::All) => format!("[x] {name}"),
        (None, Held::Some) => format!("[~] {name} {}/{n}", have.unwrap_or(0)),
        (None, Held::None) => format!("[ ] {name}"),
        (None, Held::Unknown) => format!("[·] {name}"),
    }
}
