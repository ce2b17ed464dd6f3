//! The new-key and edit-key form: each field checked where it is typed, the
//! instance's developers, the channels and the teams in use offered while
//! typing, and a refused save shown without losing what was typed.

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;

use crate::tui::kit::keymap::{
    Action, BACKTAB, Binding, DOWN, ENTER, ESC, Layer, TAB, UP, bind, ctrl,
};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{input_line, place_cursor, safe, window, wrapped_height};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use crate::tui::windows::confirm::{Confirm, Pending};
use chrono::{DateTime, Utc};
use keyward_core::domain::Name;
use keyward_core::domain::expiry::Expiry;
use keyward_core::domain::model::{Developer, Instance, Key, Team};
use keyward_core::domain::query::fold_case;
use keyward_core::error::Error;
use keyward_core::service::{EditKey, NewKeyRequest, TeamChanges};
use ratatui::Frame;
use ratatui::crossterm::event::Event;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use std::collections::BTreeSet;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// What a form field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Instance,
    Developer,
    Channel,
    Teams,
    Expires,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::Name,
        Field::Instance,
        Field::Developer,
        Field::Channel,
        Field::Teams,
        Field::Expires,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Instance => "Instance",
            Field::Developer => "Developer",
            Field::Channel => "Channel",
            Field::Teams => "Teams",
            Field::Expires => "Expires",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The lists a key form picks from.
#[derive(Clone, Debug, Default)]
pub struct FormChoices {
    pub instances: Vec<Instance>,
    pub developers: Vec<Developer>,
    pub channels: Vec<String>,
    pub teams: Vec<Team>,
}

#[derive(Debug)]
pub enum FormKind {
    Create,
    Edit(Box<Key>),
}

/// The new-key and edit-key form.
#[derive(Debug)]
pub struct KeyForm {
    pub kind: FormKind,
    pub inputs: [Input; 6],
    /// What the inputs held when the form opened, to tell unsaved input.
    pub initial: [String; 6],
    pub focus: Field,
    /// The highlighted suggestion of the focused field.
    pub choice: Option<usize>,
    pub errors: [Option<String>; 6],
    /// The service's refusal of the last save (limit reached, role…).
    pub refused: Option<String>,
    pub saving: bool,
    /// None while loading.
    pub choices: Option<FormChoices>,
}

impl KeyForm {
    pub fn value(&self, field: Field) -> &str {
        self.inputs[field.index()].value()
    }

    pub fn is_dirty(&self) -> bool {
        self.inputs
            .iter()
            .zip(&self.initial)
            .any(|(i, v)| i.value() != v)
    }

    /// The store refused the save: why, beside the fields, with what was typed kept.
    pub fn refuse(&mut self, e: &Error) {
        self.saving = false;
        self.refused = Some(e.to_string());
    }
}

/// The new-key form (no key) or the edit form of `key`; a new key expires
/// after `default_expiry` unless the admin says otherwise.
pub fn new_form(key: Option<Key>, default_expiry: &str) -> KeyForm {
    let values: [String; 6] = match &key {
        None => [
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            default_expiry.to_owned(),
        ],
        Some(k) => [
            k.name.clone(),
            k.instance.clone(),
            k.developer.clone(),
            k.channel.clone(),
            k.teams.join(", "),
            k.expires_at.map_or("never".to_owned(), date_of),
        ],
    };
    KeyForm {
        kind: key.map_or(FormKind::Create, |k| FormKind::Edit(Box::new(k))),
        inputs: values.clone().map(Input::new),
        initial: values,
        focus: Field::Name,
        choice: None,
        errors: Default::default(),
        refused: None,
        saving: false,
        choices: None,
    }
}

/// The new-key form for the replacement of `old` (a key just deactivated):
/// its name, instance, developer, channel and teams, and the default expiry.
/// What is prefilled counts as typed: leaving the form asks first.
pub fn replacement_form(old: &Key, default_expiry: &str) -> KeyForm {
    let mut form = new_form(None, default_expiry);
    let values = [
        old.name.clone(),
        old.instance.clone(),
        old.developer.clone(),
        old.channel.clone(),
        old.teams.join(", "),
        default_expiry.to_owned(),
    ];
    form.inputs = values.map(Input::new);
    form
}

/// `YYYY-MM-DD` of a stored time: the form of an expiry an admin can type back.
fn date_of(ts: i64) -> String {
    // A typed date means that local day (valid through it), as dates are shown.
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
}

/// The suggestions the focused field offers, filtered by what is typed.
pub fn suggestions(form: &KeyForm) -> Vec<String> {
    let Some(c) = &form.choices else {
        return Vec::new();
    };
    let typed = fold_case(form.value(form.focus).trim());
    let matching = |name: &str| typed.is_empty() || fold_case(name).contains(&typed);
    match form.focus {
        Field::Instance => {
            if matches!(form.kind, FormKind::Edit(_)) {
                return Vec::new();
            }
            // A retired instance takes no new keys: it is not offered.
            c.instances
                .iter()
                .filter(|i| !i.is_retired())
                .map(|i| i.name.clone())
                .filter(|n| matching(n) && fold_case(n) != typed)
                .collect()
        }
        Field::Developer => {
            let typed_instance = form.value(Field::Instance).trim();
            let instance = named_instance(&c.instances, typed_instance)
                .map_or(typed_instance, |i| i.name.as_str());
            c.developers
                .iter()
                .filter(|d| d.instance == instance)
                .map(|d| d.name.clone())
                .filter(|n| matching(n) && !n.eq_ignore_ascii_case(&typed))
                .collect()
        }
        Field::Channel => c
            .channels
            .iter()
            .filter(|n| matching(n) && !n.eq_ignore_ascii_case(&typed))
            .cloned()
            .collect(),
        Field::Teams => {
            let value = form.value(Field::Teams);
            let (done, last) = split_last_team(value);
            let last = last.trim().to_lowercase();
            c.teams
                .iter()
                .map(|t| t.name.clone())
                .filter(|n| !done.iter().any(|d| d.eq_ignore_ascii_case(n)))
                .filter(|n| last.is_empty() || n.to_lowercase().contains(&last))
                .collect()
        }
        Field::Expires => ["30d", "90d", "180d", "365d", "never"]
            .iter()
            .filter(|s| !s.eq_ignore_ascii_case(&typed))
            .map(|s| (*s).to_owned())
            .collect(),
        Field::Name => Vec::new(),
    }
}

/// The instance a typed name means: the one of exactly that name, else the
/// one it names in another case (names compare case folded, as filters do).
/// A store from before names were folded may hold both `acme-prod` and
/// `ACME-PROD`: the exact name wins, so a key never lands on the other one.
pub fn named_instance<'a>(instances: &'a [Instance], name: &str) -> Option<&'a Instance> {
    instances.iter().find(|i| i.name == name).or_else(|| {
        instances
            .iter()
            .find(|i| fold_case(&i.name) == fold_case(name))
    })
}

/// What the developer field will do on save when the name typed is not one of the chosen
/// instance's developers: it adds a new developer, so a typo must not pass unseen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewDeveloper {
    /// No developer of the instance has this name, in any case.
    New,
    /// Only a different case of a known name (the store keeps names as typed, so `ana`
    /// beside `Ana` would be a second developer): the known one, to suggest it.
    CaseOf(String),
}

/// `Some` when saving would add the developer typed as a new one; `None` while the lists
/// load, the field is empty, or the instance is not known (its own error says so).
pub fn new_developer(form: &KeyForm) -> Option<NewDeveloper> {
    let c = form.choices.as_ref()?;
    let typed = form.value(Field::Developer).trim();
    let instance = form.value(Field::Instance).trim();
    let instance = named_instance(&c.instances, instance)?;
    if typed.is_empty() {
        return None;
    }
    let known: Vec<&str> = c
        .developers
        .iter()
        .filter(|d| d.instance == instance.name)
        .map(|d| d.name.as_str())
        .collect();
    if known.contains(&typed) {
        return None;
    }
    let folded = fold_case(typed);
    Some(match known.iter().find(|n| fold_case(n) == folded) {
        Some(n) => NewDeveloper::CaseOf((*n).to_owned()),
        None => NewDeveloper::New,
    })
}

/// Whether the field takes focus: the edit form's instance is fixed, so it is skipped.
fn focusable(form: &KeyForm, field: Field) -> bool {
    !(matches!(form.kind, FormKind::Edit(_)) && field == Field::Instance)
}

/// The next (or previous) field that takes focus, wrapping around.
fn step(form: &KeyForm, forward: bool) -> Field {
    let n = Field::ALL.len();
    let mut i = form.focus.index();
    for _ in 0..n {
        i = if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        };
        if focusable(form, Field::ALL[i]) {
            break;
        }
    }
    Field::ALL[i]
}

/// The teams already typed, and the fragment being typed after the last comma.
fn split_last_team(value: &str) -> (Vec<String>, &str) {
    match value.rsplit_once(',') {
        Some((done, last)) => (team_list(done), last),
        None => (Vec::new(), value),
    }
}

fn team_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

static FORM: &[Binding] = &[
    bind(&[TAB], Action::NextField, "next field", "next"),
    bind(&[BACKTAB], Action::PrevField, "previous field", "previous"),
    bind(&[UP], Action::Up, "previous choice in the list", "choice"),
    bind(&[DOWN], Action::Down, "next choice in the list", "choice"),
    bind(
        &[ENTER],
        Action::Confirm,
        "take the choice, or save on the last field",
        "pick",
    ),
    bind(&[ctrl('s')], Action::Save, "save", "save"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
    bind(
        &[ctrl('c')],
        Action::Quit,
        "quit (asks first if something was typed)",
        "",
    ),
];

pub const LAYER: Layer = Layer {
    name: "key form",
    bindings: FORM,
    takes_text: true,
    note: "",
};

impl Window for KeyForm {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        let form = self;
        let n = suggestions(form).len();
        match action {
            Action::NextField | Action::PrevField => {
                form.focus = step(form, action == Action::NextField);
                form.choice = None;
            }
            Action::Down if n > 0 => {
                form.choice = Some(form.choice.map_or(0, |c| (c + 1).min(n - 1)))
            }
            Action::Up => form.choice = form.choice.and_then(|c| c.checked_sub(1)),
            Action::Confirm => {
                if let Some(pick) = form.choice.and_then(|c| suggestions(form).get(c).cloned()) {
                    take_suggestion(form, pick);
                } else if form.focus == Field::Expires {
                    save_form(form, cx.now, cx);
                } else {
                    form.focus = step(form, true);
                    form.choice = None;
                }
            }
            Action::Save => save_form(form, cx.now, cx),
            // Quitting mid-save would lose the new secret; unsaved input asks first.
            Action::Quit if form.saving => {}
            Action::Quit if !form.is_dirty() => cx.ask(Ask::Quit),
            Action::Quit => cx.ask(Ask::AskFirst(Confirm {
                title: "Quit without saving?".to_owned(),
                lines: vec!["What you typed in the form is lost; nothing was saved.".to_owned()],
                pending: Pending::Quit,
                back: None,
                scroll: 0,
            })),
            Action::Cancel if form.saving => {}
            Action::Cancel if form.is_dirty() => cx.ask(Ask::AskFirst(Confirm {
                title: "Discard this form?".to_owned(),
                lines: vec!["What you typed is lost; nothing was saved.".to_owned()],
                pending: Pending::Discard,
                back: None,
                scroll: 0,
            })),
            Action::Cancel => cx.ask(Ask::Close),
            _ => {}
        }
    }

    fn type_text(&mut self, event: &Event) {
        // An edit keeps its key's instance.
        if matches!(self.kind, FormKind::Edit(_)) && self.focus == Field::Instance {
            return;
        }
        let i = self.focus.index();
        if self.inputs[i].handle_event(event).is_some() {
            self.errors[i] = None;
            self.refused = None;
            self.choice = None;
        }
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_form(self, theme, frame);
    }
}

fn take_suggestion(form: &mut KeyForm, pick: String) {
    let i = form.focus.index();
    let value = if form.focus == Field::Teams {
        let (mut done, _) = split_last_team(form.value(Field::Teams));
        done.push(pick);
        format!("{}, ", done.join(", "))
    } else {
        pick
    };
    form.inputs[i] = Input::new(value);
    form.errors[i] = None;
    form.choice = None;
    if form.focus != Field::Teams && form.focus != Field::Expires {
        form.focus = step(form, true);
    }
}

/// Checks every field, showing each problem next to its field; nothing is
/// written unless all pass.
fn save_form(form: &mut KeyForm, now: i64, cx: &mut Cx) {
    if form.saving {
        return;
    }
    form.refused = None;
    let now_utc = DateTime::from_timestamp(now, 0).unwrap_or_default();
    let mut errors: [Option<String>; 6] = Default::default();
    let mut check = |field: Field, result: Result<(), Error>| {
        if let Err(e) = result {
            errors[field.index()] = Some(e.to_string());
        }
    };
    check(
        Field::Name,
        Name::parse("name", form.value(Field::Name)).map(drop),
    );
    let instance = form.value(Field::Instance).trim().to_owned();
    let instances = form.choices.as_ref().map(|c| &c.instances);
    let known = instances.and_then(|l| named_instance(l, &instance));
    let instance_error = match (instances, known) {
        (Some(l), _) if l.is_empty() => {
            Some("no instances yet: an admin adds one first (keyward instance add NAME --cloud …)")
        }
        (_, None) if matches!(form.kind, FormKind::Create) => {
            Some("pick an instance from the list")
        }
        (_, Some(i)) if i.is_retired() && matches!(form.kind, FormKind::Create) => {
            Some("this instance is retired: it takes no new keys; pick another")
        }
        _ => None,
    };
    check(
        Field::Instance,
        instance_error.map_or(Ok(()), |e| Err(Error::usage(e))),
    );
    let instance = known.map_or(instance, |i| i.name.clone());
    check(
        Field::Developer,
        Name::parse("developer", form.value(Field::Developer)).map(drop),
    );
    check(
        Field::Channel,
        Name::parse("channel", form.value(Field::Channel)).map(drop),
    );
    let teams = team_list(form.value(Field::Teams));
    for t in &teams {
        check(Field::Teams, Name::parse("team", t).map(drop));
    }
    let expires = form.value(Field::Expires).trim().to_owned();
    if !expires.is_empty() && expires != form.initial[Field::Expires.index()] {
        check(Field::Expires, Expiry::parse(&expires, now_utc).map(drop));
    }
    form.errors = errors;
    if form.errors.iter().any(Option::is_some) {
        return;
    }
    let changed = |field: Field| {
        let v = form.value(field);
        (v != form.initial[field.index()]).then(|| v.trim().to_owned())
    };
    let effect = match &form.kind {
        FormKind::Create => Effect::CreateKey(NewKeyRequest {
            name: form.value(Field::Name).to_owned(),
            instance,
            developer: form.value(Field::Developer).trim().to_owned(),
            channel: form.value(Field::Channel).trim().to_owned(),
            teams,
            expires: (!expires.is_empty()).then_some(expires),
        }),
        FormKind::Edit(key) => {
            let before: BTreeSet<&str> = key.teams.iter().map(String::as_str).collect();
            let after: BTreeSet<&str> = teams.iter().map(String::as_str).collect();
            Effect::EditKey {
                public_id: key.public_id.clone(),
                edit: EditKey {
                    name: changed(Field::Name).map(|_| form.value(Field::Name).to_owned()),
                    developer: changed(Field::Developer),
                    channel: changed(Field::Channel),
                    expires: changed(Field::Expires).filter(|e| !e.is_empty()),
                },
                teams: TeamChanges {
                    add: after.difference(&before).map(|t| (*t).to_owned()).collect(),
                    remove: before.difference(&after).map(|t| (*t).to_owned()).collect(),
                },
            }
        }
    };
    if let Effect::EditKey { edit, teams, .. } = &effect {
        if !edit.changes_fields() && teams.is_empty() {
            form.refused = Some("nothing to save: no field was changed".to_owned());
            return;
        }
    }
    form.saving = true;
    cx.effect(effect);
}

fn draw_form(form: &KeyForm, theme: &Theme, frame: &mut Frame) {
    let title = match &form.kind {
        FormKind::Create => " New key ".to_owned(),
        FormKind::Edit(k) => format!(" Edit {} ", safe(&k.name)),
    };
    let inner = window(frame, 78, 22, title);
    // Each field on its own rows: a long error wraps under its field instead
    // of being cut at the border, and the cursor still lands on the field.
    let mut y = inner.y;
    let mut cursor_row = 0;
    for field in Field::ALL {
        let i = field.index();
        if field == form.focus {
            cursor_row = y - inner.y;
        }
        let mut line = input_line(
            field.label(),
            11,
            &form.inputs[i],
            field == form.focus,
            theme,
        );
        if matches!(form.kind, FormKind::Edit(_)) && field == Field::Instance {
            line.spans.push(Span::styled("(fixed)", theme.dim()));
        }
        if field == Field::Developer && form.errors[i].is_none() {
            match new_developer(form) {
                Some(NewDeveloper::New) => line
                    .spans
                    .push(Span::styled("+ new developer", theme.warning())),
                Some(NewDeveloper::CaseOf(known)) => line.spans.push(Span::styled(
                    format!("+ new developer (known: {})", safe(&known)),
                    theme.warning(),
                )),
                None => {}
            }
        }
        if let Some(e) = &form.errors[i] {
            line.spans
                .push(Span::styled(format!(" ✗ {}", safe(e)), theme.error()));
        }
        let rows = wrapped_height(std::slice::from_ref(&line), inner.width)
            .max(1)
            .min(inner.bottom().saturating_sub(y));
        let area = Rect {
            y,
            height: rows,
            ..inner
        };
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
        y += rows;
    }
    let rest = Rect {
        y,
        height: inner.bottom().saturating_sub(y),
        ..inner
    };
    let mut lines = vec![Line::from("")];
    if let Some(r) = &form.refused {
        lines.push(Line::from(Span::styled(
            format!("✗ Not saved: {}", safe(r)),
            theme.error(),
        )));
    } else if form.saving {
        lines.push(Line::from("Saving…"));
    }
    match &form.choices {
        None => lines.push(Line::from(Span::styled("Loading the lists…", theme.dim()))),
        Some(c) if c.instances.is_empty() && matches!(form.kind, FormKind::Create) => {
            lines.push(Line::from(Span::styled(
                "No instances yet. Add one first in the Directory tab (Esc, 5, then n), or with keyward instance add NAME --cloud salesforce.",
                theme.warning(),
            )))
        }
        Some(_) => {
            let options = suggestions(form);
            let hint = match form.focus {
                Field::Instance => "Instances (↓ to pick):",
                Field::Developer => "Developers of this instance (↓ to pick, or type a new one):",
                Field::Channel => "Channels (↓ to pick, or type a new one):",
                Field::Teams => "Teams, comma-separated (↓ to pick, or type a new one):",
                Field::Expires => "A date (2027-01-31), a span (30d, 12w) or never:",
                Field::Name => "A name that says who or what uses the key.",
            };
            lines.push(Line::from(Span::styled(hint, theme.dim())));
            let room = usize::from(
                rest.height
                    .saturating_sub(wrapped_height(&lines, rest.width)),
            );
            let start = form
                .choice
                .unwrap_or(0)
                .saturating_sub(room.saturating_sub(1));
            for (i, o) in options.iter().enumerate().skip(start).take(room) {
                let chosen = form.choice == Some(i);
                lines.push(Line::from(Span::styled(
                    format!("{} {}", if chosen { "›" } else { " " }, safe(o)),
                    if chosen { theme.cursor() } else { Style::new() },
                )));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), rest);
    place_cursor(
        frame,
        inner,
        cursor_row,
        11,
        &form.inputs[form.focus.index()],
    );
}
