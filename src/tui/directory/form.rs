//! The Directory tab's form window: a few labelled text fields for adding or
//! editing an instance, a developer, a team or an operator. Enter saves (after
//! showing what an instance edit does to its keys), Esc leaves.

use super::Change;
use crate::tui::kit::keymap::{Action, BACKTAB, Binding, DOWN, ENTER, ESC, Layer, TAB, UP, bind};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{error_line, input_line, place_cursor, safe, window};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use crate::tui::windows::confirm::count_keys;
use keyward_core::domain::model::{Cloud, Instance, Operator, Role};
use keyward_core::error::Error;
use keyward_core::service::{InstanceEdit, InstanceEditEffect, InstanceSpec};
use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyCode, KeyModifiers};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use serde_json::Value;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// What the form makes or changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    AddInstance,
    /// Edit the cloud, URL and limit of this instance; its effect on the
    /// instance's keys is shown before saving.
    EditInstance(String),
    AddOperator,
    AddDeveloper {
        instance: String,
    },
    RenameDeveloper {
        instance: String,
        name: String,
    },
    RenameTeam(String),
    ChangeRole(String),
}

/// One labelled field.
#[derive(Debug)]
pub struct Field {
    pub label: &'static str,
    pub input: Input,
    /// What may be typed, shown under the fields when focused.
    pub help: &'static str,
    pub kind: Kind,
}

/// How a field takes what is typed.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A proposed value (a limit of 2): the first key typed replaces it
    /// instead of adding to it, as a selected default does in a web form.
    Default,
    /// One of a fixed list: ←/→ or Space step through it, and letters
    /// typed pick the first choice they begin (`se` → servicenow).
    Choice {
        choices: &'static [&'static str],
        typed: String,
    },
}

fn field(label: &'static str, value: &str, help: &'static str) -> Field {
    Field {
        label,
        input: Input::new(value.to_owned()),
        help,
        kind: Kind::Text,
    }
}

fn default_field(label: &'static str, value: &str, help: &'static str) -> Field {
    Field {
        kind: Kind::Default,
        ..field(label, value, help)
    }
}

fn choice_field(
    label: &'static str,
    value: &str,
    choices: &'static [&'static str],
    help: &'static str,
) -> Field {
    let value = if choices.contains(&value) {
        value
    } else {
        choices.first().copied().unwrap_or_default()
    };
    Field {
        kind: Kind::Choice {
            choices,
            typed: String::new(),
        },
        ..field(label, value, help)
    }
}

impl Field {
    /// Takes a key typed into the field; whether the value changed.
    fn take(&mut self, event: &Event) -> bool {
        let before = self.input.value().to_owned();
        match &mut self.kind {
            Kind::Text => {
                self.input.handle_event(event);
            }
            Kind::Default => {
                if let Event::Key(k) = event {
                    // Any key makes it the admin's text; a letter or an
                    // erase first takes the proposed value away.
                    self.kind = Kind::Text;
                    let plain = !k.modifiers.contains(KeyModifiers::CONTROL);
                    match k.code {
                        KeyCode::Char(_) if plain => self.input = Input::default(),
                        KeyCode::Backspace | KeyCode::Delete => {
                            self.input = Input::default();
                            return self.input.value() != before;
                        }
                        _ => {}
                    }
                }
                self.input.handle_event(event);
            }
            Kind::Choice { choices, typed } => {
                let Event::Key(k) = event else {
                    return false;
                };
                let at = choices.iter().position(|c| *c == before).unwrap_or(0);
                let n = choices.len().max(1);
                let pick = match k.code {
                    KeyCode::Left => Some((at + n - 1) % n),
                    KeyCode::Right | KeyCode::Char(' ') => Some((at + 1) % n),
                    KeyCode::Char(_) if k.modifiers.contains(KeyModifiers::CONTROL) => {
                        typed.clear();
                        None
                    }
                    KeyCode::Char(c) => {
                        typed.push(c.to_ascii_lowercase());
                        let starts = |t: &str| choices.iter().position(|ch| ch.starts_with(t));
                        starts(typed).or_else(|| {
                            // A new word: start over from this letter.
                            *typed = c.to_ascii_lowercase().to_string();
                            starts(typed)
                        })
                    }
                    KeyCode::Backspace => {
                        typed.pop();
                        None
                    }
                    _ => None,
                };
                if let Some(i) = pick {
                    if matches!(k.code, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) {
                        typed.clear();
                    }
                    self.input = Input::new(choices[i].to_owned());
                }
            }
        }
        self.input.value() != before
    }
}

const CLOUD_HELP: &str = "salesforce, servicenow, m365, qualtrics or other";
const CLOUDS: &[&str] = &["salesforce", "servicenow", "m365", "qualtrics", "other"];
const ROLE_HELP: &str = "admin, manager or viewer";
const ROLES: &[&str] = &["admin", "manager", "viewer"];
const CHOICE_HELP: &str = "←/→ or Space choose, or type its first letters";
const LIMIT_HELP: &str = "active keys per integration at once, 1–100";

#[derive(Debug)]
pub struct DirectoryForm {
    pub purpose: Purpose,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
    /// Waiting for the store's answer: a second Enter sends nothing.
    pub saving: bool,
    /// What an instance edit does to the instance and its keys, once the
    /// store worked it out; Enter then saves. Typing clears it.
    pub preview: Option<Vec<String>>,
}

impl DirectoryForm {
    fn new(purpose: Purpose, fields: Vec<Field>) -> DirectoryForm {
        DirectoryForm {
            purpose,
            fields,
            focus: 0,
            error: None,
            saving: false,
            preview: None,
        }
    }

    pub fn edit_instance(inst: &Instance) -> DirectoryForm {
        DirectoryForm::new(
            Purpose::EditInstance(inst.name.clone()),
            vec![
                choice_field("Cloud", inst.cloud.as_str(), CLOUDS, CHOICE_HELP),
                field(
                    "URL",
                    inst.url.as_deref().unwrap_or_default(),
                    "https://…, or empty for none",
                ),
                default_field("Limit", &inst.max_active.to_string(), LIMIT_HELP),
            ],
        )
    }

    pub fn add_developer(instance: &str) -> DirectoryForm {
        DirectoryForm::new(
            Purpose::AddDeveloper {
                instance: instance.to_owned(),
            },
            vec![field("Name", "", "the developer's name, 1–128 characters")],
        )
    }

    pub fn rename_developer(instance: &str, name: &str) -> DirectoryForm {
        DirectoryForm::new(
            Purpose::RenameDeveloper {
                instance: instance.to_owned(),
                name: name.to_owned(),
            },
            vec![field("New name", name, "their keys follow the new name")],
        )
    }

    pub fn rename_team(name: &str) -> DirectoryForm {
        DirectoryForm::new(
            Purpose::RenameTeam(name.to_owned()),
            vec![field(
                "New name",
                name,
                "its keys keep the team under the new name",
            )],
        )
    }

    pub fn change_role(op: &Operator) -> DirectoryForm {
        DirectoryForm::new(
            Purpose::ChangeRole(op.login.clone()),
            vec![choice_field("Role", op.role.as_str(), ROLES, CHOICE_HELP)],
        )
    }

    /// The store worked out what the instance edit does: show it; Enter saves.
    pub fn previewed(&mut self, effect: &InstanceEditEffect) {
        self.saving = false;
        self.preview = Some(preview_lines(effect));
    }

    pub fn add_instance() -> DirectoryForm {
        DirectoryForm::new(
            Purpose::AddInstance,
            vec![
                field("Name", "", "the instance's name, 1–128 characters"),
                choice_field("Cloud", "salesforce", CLOUDS, CHOICE_HELP),
                field("URL", "", "optional: https://…"),
                default_field("Limit", "2", LIMIT_HELP),
            ],
        )
    }

    pub fn add_operator() -> DirectoryForm {
        DirectoryForm::new(
            Purpose::AddOperator,
            vec![
                field("Login", "", "the login name on this host"),
                field("Name", "", "the person's name"),
                field("Email", "", "where notifications go"),
                choice_field("Role", "viewer", ROLES, CHOICE_HELP),
            ],
        )
    }

    pub fn title(&self) -> String {
        match &self.purpose {
            Purpose::AddInstance => " Add an instance ".to_owned(),
            Purpose::EditInstance(name) => format!(" Edit instance {name} "),
            Purpose::AddOperator => " Add an operator ".to_owned(),
            Purpose::AddDeveloper { instance } => format!(" Add a developer to {instance} "),
            Purpose::RenameDeveloper { instance, name } => {
                format!(" Rename developer {name} of {instance} ")
            }
            Purpose::RenameTeam(name) => format!(" Rename team {name} "),
            Purpose::ChangeRole(login) => format!(" Role of {login} "),
        }
    }

    /// The text of the field with this label, trimmed.
    pub fn value(&self, label: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map_or("", |f| f.input.value().trim())
    }

    /// The store refused the change: say why, keep what was typed.
    pub fn refuse(&mut self, e: &Error) {
        self.saving = false;
        self.error = Some(e.to_string());
    }

    /// Every field that is wrong, each with what it takes: the form says
    /// them all at once rather than one per Enter.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.fields {
            let v = f.input.value().trim();
            let problem = match f.label {
                "Name" | "Login" | "New name" if v.is_empty() => {
                    Some(format!("{} is empty", f.label.to_lowercase()))
                }
                "Login" if v.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                    Some("login must be a login name on this host, without spaces".to_owned())
                }
                "Email" if !v.contains('@') || v.chars().any(char::is_whitespace) => {
                    Some("email must be an address such as ana@example.org".to_owned())
                }
                "Cloud" => cloud(v).err(),
                "Role" => role(v).err(),
                "Limit" => limit(v).err(),
                _ => None,
            };
            out.extend(problem);
        }
        out
    }

    /// The change the fields describe, or everything that is wrong with them.
    pub fn change(&self) -> Result<Change, String> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        match &self.purpose {
            Purpose::AddInstance => Ok(Change::AddInstance(InstanceSpec {
                name: self.value("Name").to_owned(),
                cloud: cloud(self.value("Cloud"))?,
                url: optional(self.value("URL")),
                max_active: Some(limit(self.value("Limit"))?),
            })),
            Purpose::EditInstance(name) => Ok(Change::EditInstance {
                name: name.clone(),
                edit: InstanceEdit {
                    cloud: Some(cloud(self.value("Cloud"))?),
                    url: Some(self.value("URL").to_owned()),
                    max_active: Some(limit(self.value("Limit"))?),
                },
            }),
            Purpose::AddDeveloper { instance } => Ok(Change::AddDeveloper {
                instance: instance.clone(),
                name: self.value("Name").to_owned(),
            }),
            Purpose::RenameDeveloper { instance, name } => Ok(Change::RenameDeveloper {
                instance: instance.clone(),
                name: name.clone(),
                to: self.value("New name").to_owned(),
            }),
            Purpose::RenameTeam(name) => Ok(Change::RenameTeam {
                name: name.clone(),
                to: self.value("New name").to_owned(),
            }),
            Purpose::ChangeRole(login) => Ok(Change::SetRole {
                login: login.clone(),
                role: role(self.value("Role"))?,
            }),
            Purpose::AddOperator => Ok(Change::AddOperator {
                login: self.value("Login").to_owned(),
                name: self.value("Name").to_owned(),
                email: self.value("Email").to_owned(),
                role: role(self.value("Role"))?,
            }),
        }
    }

    fn save(&mut self, cx: &mut Cx) {
        if self.saving {
            return;
        }
        match self.change() {
            // An instance edit shows its effect on the keys first; the next
            // Enter saves what was shown.
            Ok(Change::EditInstance { name, edit }) if self.preview.is_none() => {
                self.saving = true;
                self.error = None;
                cx.effect(Effect::PreviewInstanceEdit { name, edit });
            }
            Ok(change) => {
                self.saving = true;
                self.error = None;
                cx.effect(Effect::ChangeDirectory(change));
            }
            Err(e) => self.error = Some(e),
        }
    }
}

/// An instance edit's effect as lines: each change as `field: before → after`,
/// then what it does to the keys.
pub fn preview_lines(effect: &InstanceEditEffect) -> Vec<String> {
    let shown = |v: &Value| match v {
        Value::Null => "none".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut lines: Vec<String> = effect
        .changes()
        .iter()
        .map(|(field, change)| {
            let label = if field == "max_active" {
                "limit"
            } else {
                field
            };
            format!(
                "{label}: {} → {}",
                shown(&change["from"]),
                shown(&change["to"])
            )
        })
        .collect();
    if lines.is_empty() {
        lines.push("Nothing changes: the instance has these settings already.".to_owned());
        return lines;
    }
    if effect.keys_changing_cloud > 0 {
        lines.push(format!(
            "{} of this instance change cloud to {}.",
            count_keys(effect.keys_changing_cloud as usize),
            effect.after.cloud
        ));
    }
    for load in &effect.over_limit {
        lines.push(format!(
            "{} / {}: {} active, over the new limit of {}; they stay active, but no new key until under it.",
            load.developer, load.channel, load.active_keys, effect.after.max_active
        ));
    }
    if effect.keys_changing_cloud == 0 && effect.over_limit.is_empty() {
        lines.push(format!(
            "No key changes: {} active of {} stay as they are.",
            effect.before.active_keys, effect.before.keys
        ));
    }
    lines
}

fn optional(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

pub fn cloud(s: &str) -> Result<Cloud, String> {
    Cloud::parse(s).ok_or_else(|| format!("cloud must be {CLOUD_HELP}"))
}

pub fn role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("role must be {ROLE_HELP}"))
}

pub fn limit(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| format!("limit must be a number of {LIMIT_HELP}"))
}

static FORM: &[Binding] = &[
    bind(&[ENTER], Action::Save, "save", "save"),
    bind(&[TAB, DOWN], Action::NextField, "next field", "field"),
    bind(&[BACKTAB, UP], Action::PrevField, "previous field", "field"),
    bind(&[ESC], Action::Cancel, "leave without saving", "cancel"),
];

pub const LAYER: Layer = Layer {
    name: "directory form",
    bindings: FORM,
    takes_text: true,
    note: "",
};

impl Window for DirectoryForm {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        let n = self.fields.len().max(1);
        match action {
            Action::Cancel => cx.ask(Ask::Close),
            Action::NextField => self.focus = (self.focus + 1) % n,
            Action::PrevField => self.focus = (self.focus + n - 1) % n,
            Action::Save => self.save(cx),
            _ => {}
        }
    }

    fn type_text(&mut self, event: &Event) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            if f.take(event) {
                self.error = None;
                // What was previewed is no longer what would be saved.
                self.preview = None;
            }
        }
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_form(self, theme, frame);
    }
}

const LABEL_WIDTH: usize = 10;

fn draw_form(f: &DirectoryForm, theme: &Theme, frame: &mut Frame) {
    let mut lines: Vec<Line> = f
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let focused = i == f.focus;
            let mut line = input_line(field.label, LABEL_WIDTH, &field.input, focused, theme);
            if matches!(field.kind, Kind::Choice { .. }) {
                // A choice says it is one, and where the others are.
                line.spans
                    .push(Span::styled(if focused { "◂ ▸" } else { "" }, theme.dim()));
            }
            line
        })
        .collect();
    lines.push(Line::from(""));
    if let Some(field) = f.fields.get(f.focus) {
        let help = match field.kind {
            Kind::Choice { choices, .. } => format!("{}: {}", choices.join(", "), field.help),
            _ => field.help.to_owned(),
        };
        lines.push(Line::from(Span::styled(
            format!("{}: {help}", field.label),
            theme.dim(),
        )));
    }
    if let Some(preview) = &f.preview {
        lines.extend(
            preview
                .iter()
                .map(|l| Line::from(Span::styled(safe(l), theme.warning()))),
        );
        lines.push(Line::from(Span::styled(
            "Enter saves this · Esc leaves it unsaved",
            theme.key(),
        )));
    }
    if let Some(e) = &f.error {
        lines.extend(e.lines().map(|l| error_line(l, theme)));
    } else if f.saving {
        lines.push(Line::from(Span::styled("Saving…", theme.dim())));
    }
    let height = lines.len() as u16 + 3;
    let inner = window(frame, 70, height, safe(&f.title()));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    if let Some(field) = f.fields.get(f.focus) {
        place_cursor(
            frame,
            inner,
            f.focus as u16,
            LABEL_WIDTH as u16,
            &field.input,
        );
    }
}
