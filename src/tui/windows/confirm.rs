//! The one confirmation window: every destructive or lossy step asks here
//! first, naming what it touches, and `y` carries it out. What cannot be undone
//! (deactivate, delete, losing a form's input or a secret never copied) takes
//! `y` only, never Enter, and more than ten keys take their number typed
//! first; the rest take Enter too. A long list scrolls.

use crate::tui::key_form::replacement_form;
use crate::tui::kit::keymap::{
    Action, Binding, DOWN, ENTER, ESC, Layer, PAGE_DOWN, PAGE_UP, UP, bind, key,
};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{centered, more_marker, safe, window, wrapped_height};
use crate::tui::router::Modal;
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use keyward_core::domain::model::{Key, KeyStatus};
use keyward_core::service::{BulkAction, BulkPlan, PlannedKey, SkipReason, TeamChanges};
use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyCode};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use std::collections::BTreeMap;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// Keys named one by one in a confirmation before "and N more": the list
/// scrolls, so this only bounds what is laid out.
pub const NAMED_IN_CONFIRM: usize = 500;
/// Skipped keys named one by one, for each reason, before "and N more".
const NAMED_SKIPPED: usize = 100;

/// A key named in a confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBrief {
    pub public_id: String,
    pub name: String,
    /// Whether it is not yet deactivated or deleted (active or expired): the
    /// deactivation warnings apply to it.
    pub active: bool,
}

impl KeyBrief {
    pub fn of(key: &Key) -> KeyBrief {
        KeyBrief {
            public_id: key.public_id.clone(),
            name: key.name.clone(),
            active: !key.status.is_final(),
        }
    }
}

/// A change waiting for the admin's yes: one path for every confirmation.
#[derive(Debug)]
pub enum Pending {
    /// An irreversible bulk action (deactivate, delete) on the keys its plan
    /// applies to: exactly the keys the window lists.
    Bulk(BulkPlan, Typed),
    ChangeTeams {
        ids: Vec<String>,
        changes: TeamChanges,
    },
    DeleteFilter(String),
    /// After a key was deactivated: make its replacement for the same integration.
    Replace(Box<Key>),
    /// Leave the program although a form holds unsaved input.
    Quit,
    /// Close a form and lose its input.
    Discard,
    /// Close the new-secret modal although the key was never copied.
    LeaveSecret,
    /// A Directory change that cannot be taken back (retire, remove).
    Directory(crate::tui::directory::Change),
}

impl Pending {
    /// Whether saying yes cannot be undone (keys changed for good, input or
    /// a secret lost): then only `y` says it, never Enter.
    pub fn irreversible(&self) -> bool {
        matches!(
            self,
            Pending::Bulk(..)
                | Pending::Quit
                | Pending::Discard
                | Pending::LeaveSecret
                | Pending::Directory(_)
        )
    }
}

/// For a large irreversible action: the number of keys as typed so far, and
/// why the last yes was refused (a wrong number).
#[derive(Debug, Default)]
pub struct Typed {
    pub input: Option<Input>,
    pub refused: Option<String>,
}

/// More keys than this in an irreversible action: their number must be typed.
pub const TYPE_THE_COUNT_ABOVE: usize = 10;

#[derive(Debug)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub pending: Pending,
    /// The modal to go back to on "no" (the form or secret it interrupted).
    pub back: Option<Box<Modal>>,
    /// The first row of the text shown, when it is longer than the window.
    pub scroll: u16,
}

impl Confirm {
    /// A confirmation with these lines that goes back to nothing on "no".
    pub fn new(title: String, lines: Vec<String>, pending: Pending) -> Confirm {
        Confirm {
            title,
            lines,
            pending,
            back: None,
            scroll: 0,
        }
    }

    /// A bulk deactivation or deletion as the service planned it: the keys it
    /// applies to, those it skips and why, and the warnings. More than
    /// `TYPE_THE_COUNT_ABOVE` keys ask for their number to be typed.
    pub fn bulk(plan: BulkPlan) -> Confirm {
        let action = plan.action;
        // The summary and the warnings first: a long list of names below
        // them is what a short screen cuts.
        let mut lines = vec![summary(&plan), String::new()];
        match action {
            BulkAction::Deactivate => {
                lines.extend(warnings(plan.apply.len()));
            }
            BulkAction::Delete => {
                lines.push("Deleted keys leave the list; their history stays.".to_owned());
                if plan
                    .apply
                    .iter()
                    .any(|k| k.status != KeyStatus::Deactivated)
                {
                    lines.push("Active keys are deactivated first:".to_owned());
                    lines.extend(warnings(plan.apply.len()));
                }
            }
        }
        lines.push(String::new());
        lines.extend(named(&plan.apply, NAMED_IN_CONFIRM));
        for (reason, keys) in skipped_by_reason(&plan) {
            lines.push(format!("Skipped, {}:", reason.describe()));
            lines.extend(named(&keys, NAMED_SKIPPED));
        }
        let verb = match action {
            BulkAction::Deactivate => "Deactivate",
            BulkAction::Delete => "Delete",
        };
        let typed = Typed {
            input: (plan.apply.len() > TYPE_THE_COUNT_ABOVE).then(Input::default),
            refused: None,
        };
        Confirm::new(
            format!("{verb} {}?", count_keys(plan.apply.len())),
            lines,
            Pending::Bulk(plan, typed),
        )
    }

    /// After a key was deactivated: offers its replacement for the same
    /// integration, as the seed's portal does ("generate a new API key").
    pub fn replacement(key: Key, default_expiry: &str) -> Confirm {
        let lines = vec![
            format!(
                "{} (kw_{}) is deactivated. Generate a new API key for the same integration?",
                key.name, key.public_id
            ),
            String::new(),
            format!(
                "The new-key form opens with its name, instance {}, developer {}, channel {}{}, expiring after the default {default_expiry}.",
                key.instance,
                key.developer,
                key.channel,
                match key.teams.as_slice() {
                    [] => String::new(),
                    [team] => format!(" and team {team}"),
                    teams => format!(" and teams {}", teams.join(", ")),
                }
            ),
        ];
        Confirm::new(
            format!("Replace {}?", key.name),
            lines,
            Pending::Replace(Box::new(key)),
        )
    }

    /// The store changed while the bulk confirmation was open: `plan` is the
    /// same keys checked again. The text says what holds now; what was typed
    /// stays (a count no longer right is refused on `y`, saying so). Whether
    /// what the action would do changed.
    pub fn replan(&mut self, plan: BulkPlan) -> bool {
        let Pending::Bulk(old, typed) = &mut self.pending else {
            return false;
        };
        if old.action != plan.action {
            return false;
        }
        let changed = old.apply != plan.apply || old.skip != plan.skip;
        let fresh = Confirm::bulk(plan);
        let Pending::Bulk(new_plan, new_typed) = fresh.pending else {
            return false;
        };
        *old = new_plan;
        match (new_typed.input, &typed.input) {
            (Some(_), Some(_)) => {}
            (want, _) => typed.input = want,
        }
        self.title = fresh.title;
        self.lines = fresh.lines;
        changed
    }

    /// The number of keys to type, what is typed, and why the last yes was
    /// refused, if this confirmation asks for the number.
    pub fn count_to_type(&self) -> Option<(usize, &Input, Option<&str>)> {
        match &self.pending {
            Pending::Bulk(plan, t) => t
                .input
                .as_ref()
                .map(|i| (plan.apply.len(), i, t.refused.as_deref())),
            _ => None,
        }
    }
}

/// "152 selected: 91 will be deactivated, 61 are already deactivated (final)".
fn summary(plan: &BulkPlan) -> String {
    // One key asked (the one under the cursor, or a selection of one) is
    // named just below: no count to explain.
    if plan.asked == 1 && plan.skip.is_empty() {
        return format!("This key will be {}.", plan.action.participle());
    }
    let mut text = format!(
        "{} selected: {} will be {}",
        plan.asked,
        plan.apply.len(),
        plan.action.participle()
    );
    for (reason, keys) in skipped_by_reason(plan) {
        let verb = if keys.len() == 1 { "is" } else { "are" };
        text.push_str(&format!(", {} {verb} {}", keys.len(), reason.describe()));
    }
    text.push('.');
    text
}

/// The skipped keys grouped by why, each group in the order asked.
fn skipped_by_reason(plan: &BulkPlan) -> Vec<(SkipReason, Vec<PlannedKey>)> {
    let mut groups: BTreeMap<SkipReason, Vec<PlannedKey>> = BTreeMap::new();
    for (key, reason) in &plan.skip {
        groups.entry(*reason).or_default().push(key.clone());
    }
    groups.into_iter().collect()
}

/// The three warnings of the seed portal, before a key is deactivated.
pub const DEACTIVATION_WARNINGS: [&str; 3] = [
    "Deactivation cannot be undone.",
    "Integrations using the key stop working until they get a new key.",
    "Apps that rely on the key will fail.",
];

/// The deactivation warnings for `n` keys, each line marked `!`.
pub fn warnings(n: usize) -> Vec<String> {
    let lines: [&str; 3] = if n == 1 {
        DEACTIVATION_WARNINGS
    } else {
        [
            "Deactivation cannot be undone.",
            "Integrations using these keys stop working until they get new keys.",
            "Apps that rely on these keys will fail.",
        ]
    };
    lines.iter().map(|w| format!("! {w}")).collect()
}

fn named(keys: &[PlannedKey], most: usize) -> Vec<String> {
    let mut lines: Vec<String> = keys
        .iter()
        .take(most)
        .map(|k| match k.public_id.as_str() {
            "" => format!("  • key #{} (no longer in the store)", k.id),
            id => format!("  • {} (kw_{id})", k.name),
        })
        .collect();
    if keys.len() > most {
        lines.push(format!("  … and {} more", keys.len() - most));
    }
    lines
}

pub fn count_keys(n: usize) -> String {
    if n == 1 {
        "1 key".to_owned()
    } else {
        format!("{n} keys")
    }
}

static CONFIRM: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[key('y'), ENTER], Action::Confirm, "yes, do it", "yes"),
    bind(&[key('n'), ESC], Action::Cancel, "no, leave it", "no"),
    bind(&[key('j'), DOWN], Action::Down, "scroll down", ""),
    bind(&[key('k'), UP], Action::Up, "scroll up", ""),
    bind(&[PAGE_DOWN], Action::PageDown, "scroll a page down", ""),
    bind(&[PAGE_UP], Action::PageUp, "scroll a page up", ""),
];

pub const LAYER: Layer = Layer {
    name: "confirmation",
    bindings: CONFIRM,
    takes_text: false,
    note: "",
};

/// What cannot be undone is confirmed with `y` only: Enter, also "open" on
/// the Keys tab, is an easy double press.
static IRREVERSIBLE: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(
        &[key('y')],
        Action::Confirm,
        "yes, do it (cannot be undone)",
        "yes",
    ),
    bind(&[key('n'), ESC], Action::Cancel, "no, leave it", "no"),
    bind(&[key('j'), DOWN], Action::Down, "scroll down", ""),
    bind(&[key('k'), UP], Action::Up, "scroll up", ""),
    bind(&[PAGE_DOWN], Action::PageDown, "scroll a page down", ""),
    bind(&[PAGE_UP], Action::PageUp, "scroll a page up", ""),
];

pub const IRREVERSIBLE_LAYER: Layer = Layer {
    name: "irreversible confirmation",
    bindings: IRREVERSIBLE,
    takes_text: false,
    note: "Enter does nothing here: this cannot be undone, so only y says yes.",
};

/// Many keys at once: their number is typed (digits), then `y`.
static TYPED: &[Binding] = &[
    bind(
        &[key('y')],
        Action::Confirm,
        "yes, do it, once the number of keys is typed",
        "yes",
    ),
    bind(&[key('n'), ESC], Action::Cancel, "no, leave it", "no"),
    bind(&[DOWN], Action::Down, "scroll down", ""),
    bind(&[UP], Action::Up, "scroll up", ""),
    bind(&[PAGE_DOWN], Action::PageDown, "scroll a page down", ""),
    bind(&[PAGE_UP], Action::PageUp, "scroll a page up", ""),
];

pub const TYPED_LAYER: Layer = Layer {
    name: "confirmation by the number of keys",
    bindings: TYPED,
    takes_text: true,
    note: "Type the number of keys, then y. Enter does nothing here.",
};

impl Window for Confirm {
    fn layers() -> &'static [Layer] {
        &[LAYER, IRREVERSIBLE_LAYER, TYPED_LAYER]
    }

    fn layer(&self) -> Layer {
        if self.count_to_type().is_some() {
            TYPED_LAYER
        } else if self.pending.irreversible() {
            IRREVERSIBLE_LAYER
        } else {
            LAYER
        }
    }

    fn type_text(&mut self, event: &Event) {
        let Pending::Bulk(
            _,
            Typed {
                input: Some(input),
                refused,
            },
        ) = &mut self.pending
        else {
            return;
        };
        // Digits and editing keys only: Enter and letters type nothing.
        let digit_or_edit = match event {
            Event::Key(k) => match k.code {
                KeyCode::Char(c) => c.is_ascii_digit(),
                KeyCode::Backspace | KeyCode::Delete | KeyCode::Left | KeyCode::Right => true,
                _ => false,
            },
            _ => false,
        };
        if digit_or_edit && input.handle_event(event).is_some() {
            *refused = None;
        }
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        let scroll = |s: &Confirm| {
            let shape = shape(
                s,
                Theme { color: false },
                Rect::new(0, 0, cx.width, cx.height),
            );
            (shape.body_rows.max(1), shape.last_scroll())
        };
        match action {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = (self.scroll + 1).min(scroll(self).1),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(scroll(self).0),
            Action::PageDown => {
                let (page, last) = scroll(self);
                self.scroll = (self.scroll + page).min(last);
            }
            _ => {}
        }
        if matches!(
            action,
            Action::Up | Action::Down | Action::PageUp | Action::PageDown
        ) {
            return;
        }
        if action != Action::Confirm {
            cx.ask(match self.back.take() {
                Some(back) => Ask::Open(*back),
                None => Ask::Close,
            });
            return;
        }
        if let Pending::Bulk(plan, t) = &mut self.pending {
            if let Some(typed) = &t.input {
                let n = plan.apply.len();
                let value = typed.value().trim();
                if value != n.to_string() {
                    let given = if value.is_empty() { "nothing" } else { value };
                    t.refused = Some(format!(
                        "Type {n}, the number of keys, to confirm; {given} was typed."
                    ));
                    return;
                }
            }
        }
        cx.ask(Ask::Close);
        match &self.pending {
            Pending::Bulk(plan, _) => cx.effect(Effect::ApplyBulk {
                action: plan.action,
                ids: plan.public_ids(),
            }),
            Pending::Replace(key) => {
                let form = replacement_form(key, &cx.settings.default_expiry);
                cx.ask(Ask::Open(Modal::Form(Box::new(form))));
                cx.effect(Effect::LoadFormChoices);
            }
            Pending::ChangeTeams { ids, changes } => cx.effect(Effect::ChangeTeams {
                ids: ids.clone(),
                changes: changes.clone(),
            }),
            Pending::DeleteFilter(name) => cx.effect(Effect::DeleteFilter(name.clone())),
            Pending::Quit => cx.ask(Ask::Quit),
            Pending::Directory(change) => cx.effect(Effect::ChangeDirectory(change.clone())),
            Pending::Discard | Pending::LeaveSecret => {}
        }
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_confirm(self, theme, frame);
    }
}

/// A confirmation laid out for a screen: its text, the answer part kept at
/// the bottom, the window's size and how many rows the text has and gets.
struct Shape {
    lines: Vec<Line<'static>>,
    answer: Vec<Line<'static>>,
    width: u16,
    height: u16,
    body_rows: u16,
    text_rows: u16,
}

impl Shape {
    /// The furthest the text scrolls: its last row at the bottom.
    fn last_scroll(&self) -> u16 {
        self.text_rows.saturating_sub(self.body_rows)
    }
}

fn shape(c: &Confirm, theme: Theme, area: Rect) -> Shape {
    let mut lines: Vec<Line> = c
        .lines
        .iter()
        .map(|l| {
            let warning = l.starts_with('!') || DEACTIVATION_WARNINGS.iter().any(|w| l.contains(w));
            Line::from(Span::styled(
                safe(l),
                if warning {
                    theme.warning()
                } else {
                    Style::new()
                },
            ))
        })
        .collect();
    lines.push(Line::from(""));
    // The answer's part (the number to type, why it was refused, the keys)
    // stays in sight at the bottom however long the list above it.
    let mut answer: Vec<Line> = Vec::new();
    let typed = c.count_to_type();
    if let Some((n, input, refused)) = typed {
        answer.push(Line::from(vec![
            Span::raw(format!("Type {n} to confirm: ")),
            Span::styled(format!("{}▏", input.value()), theme.key()),
        ]));
        if let Some(why) = refused {
            answer.push(Line::from(Span::styled(safe(why), theme.warning())));
        }
    }
    let hint = if typed.is_some() {
        "type the number, then y: yes · n / Esc: no · Enter does nothing here"
    } else if c.pending.irreversible() {
        "y: yes, do it · n / Esc: no · Enter does nothing here"
    } else {
        "y / Enter: yes, do it · n / Esc: no"
    };
    answer.push(Line::from(Span::styled(hint, theme.key())));
    // As tall as the text once wrapped, with a spare row under it.
    let width = 74.min(area.width);
    let text_width = width.saturating_sub(4);
    let answer_rows = wrapped_height(&answer, text_width);
    let text_rows = wrapped_height(&lines, text_width);
    let height = text_rows + answer_rows + 3;
    // The window as `window` places it: above the footer, within the screen.
    let drawn = centered(
        Rect {
            height: area.height.saturating_sub(1),
            ..area
        },
        width,
        height,
    );
    let inner_height = drawn.height.saturating_sub(2);
    Shape {
        lines,
        answer,
        width,
        height,
        body_rows: inner_height.saturating_sub(answer_rows + 1),
        text_rows,
    }
}

fn draw_confirm(c: &Confirm, theme: &Theme, frame: &mut Frame) {
    let shape = shape(c, *theme, frame.area());
    let inner = window(
        frame,
        shape.width,
        shape.height,
        format!(" {} ", safe(&c.title)),
    );
    let body_rows = shape.body_rows.min(inner.height);
    let body = Rect {
        height: body_rows,
        ..inner
    };
    let foot = Rect {
        y: inner.y + body_rows,
        height: inner.height - body_rows,
        ..inner
    };
    let last = shape.last_scroll();
    let scroll = c.scroll.min(last);
    frame.render_widget(
        Paragraph::new(shape.lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        body,
    );
    frame.render_widget(
        Paragraph::new(shape.answer).wrap(Wrap { trim: false }),
        foot,
    );
    // The marker sits on the border under the answer: the text above it scrolls.
    // Typing the count takes letters too: there the arrows scroll.
    let keys = if c.count_to_type().is_some() {
        "↓/↑"
    } else {
        "j/k"
    };
    more_marker(frame, inner, scroll > 0, scroll < last, keys);
}
