//! The footer hint line and the `?` overlay, both drawn from the keymap table
//! of the layer that takes keys, so help can never drift from the keys.

use super::columns::fit_text;
use super::keymap::{Action, Binding, ESC, Layer, bind, key};
use super::theme::Theme;
use super::widgets::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

static HELP: &[Binding] = &[bind(
    &[ESC, key('?'), key('q')],
    Action::Close,
    "close help",
    "close",
)];

pub const LAYER: Layer = Layer {
    name: "help",
    bindings: HELP,
    takes_text: false,
    note: "",
};

/// The hint line, generated from the current layer's keymap table. When the
/// hints do not all fit, whole hints are left out rather than one cut in half,
/// and those that finish or leave the screen (save, yes, no, close, help, quit…)
/// are kept first; the others keep their order.
/// `offered` says which actions this operator may take: the others, refused
/// when pressed, are not offered.
pub fn footer(
    layer: Layer,
    offered: impl Fn(Action) -> bool,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    // Neighbours with the same word share it: `↑ ↓ choice`.
    let mut hinted: Vec<(String, &Binding)> = Vec::new();
    for b in layer.bindings {
        let Some(first) = b.keys.first() else {
            continue;
        };
        if b.hint.is_empty() || !offered(b.action) {
            continue;
        }
        match hinted.last_mut() {
            Some((keys, prev)) if prev.hint == b.hint => {
                keys.push(' ');
                keys.push_str(&first.label());
            }
            _ => hinted.push((first.label(), b)),
        }
    }
    let cost =
        |(keys, b): &(String, &Binding)| keys.chars().count() + 1 + b.hint.chars().count() + 2;
    let finishes = |b: &Binding| {
        matches!(
            b.action,
            Action::Save
                | Action::Confirm
                | Action::Cancel
                | Action::Close
                | Action::Apply
                | Action::Copy
                | Action::Help
                | Action::Quit
        )
    };
    // The last hint needs no gap after it.
    let mut room = usize::from(area.width) + 2;
    let mut keep = vec![false; hinted.len()];
    for first in [true, false] {
        for (i, h) in hinted.iter().enumerate() {
            if !keep[i] && finishes(h.1) == first && cost(h) <= room {
                room -= cost(h);
                keep[i] = true;
            }
        }
    }
    let mut spans = Vec::new();
    for ((keys, b), _) in hinted.iter().zip(&keep).filter(|(_, k)| **k) {
        spans.push(Span::styled(keys.clone(), theme.key()));
        spans.push(Span::raw(format!(" {}  ", b.hint)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The `?` overlay: every binding of the layer under it, from its keymap
/// table. Those `offered` says this operator may not use are listed dimmed,
/// with the role they need, rather than left out: the admin learns they exist.
pub fn overlay(
    under: Layer,
    offered: impl Fn(Action) -> Option<&'static str>,
    theme: &Theme,
    frame: &mut Frame,
) {
    let bindings = under.bindings;
    let does = |b: &Binding| -> String {
        match offered(b.action) {
            None => b.does.to_owned(),
            Some(needs) => format!("{} — {needs} role", b.does),
        }
    };
    let key_style = |b: &Binding| match offered(b.action) {
        None => theme.key(),
        Some(_) => theme.dim(),
    };
    // Above the footer, whose hints say how to close the overlay.
    let mut screen = frame.area();
    screen.height = screen.height.saturating_sub(1);
    let width = 70.min(screen.width);
    let room = usize::from(screen.height.saturating_sub(2));
    let label = |b: &Binding| {
        b.keys
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(" ")
    };
    // One binding a row when they all fit; on a shorter screen two short ones
    // (the moves and tab switches) share a row.
    let pair = bindings.len() > room;
    let key_width = if pair { 12 } else { 18 };
    let half = usize::from(width.saturating_sub(2)) / 2;
    let short = |b: &Binding| {
        label(b).chars().count() < key_width && does(b).chars().count() < half - key_width
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut i = 0;
    while i < bindings.len() {
        let b = &bindings[i];
        let mut spans = vec![Span::styled(
            format!("{:<key_width$}", label(b)),
            key_style(b),
        )];
        match bindings.get(i + 1) {
            Some(next) if pair && short(b) && short(next) => {
                spans.push(Span::raw(format!("{:<w$}", does(b), w = half - key_width)));
                spans.push(Span::styled(
                    format!("{:<key_width$}", label(next)),
                    key_style(next),
                ));
                spans.push(Span::raw(does(next)));
                i += 2;
            }
            _ => {
                let room = usize::from(width.saturating_sub(4)).saturating_sub(key_width);
                spans.push(Span::raw(fit_text(&does(b), room as u16)));
                i += 1;
            }
        }
        lines.push(Line::from(spans));
    }
    let height = (lines.len() as u16 + 4).min(screen.height);
    let area = centered(screen, width, height);
    frame.render_widget(Clear, area);
    let hidden = lines
        .len()
        .saturating_sub(usize::from(area.height.saturating_sub(2)));
    let below = if hidden > 0 {
        format!("… {hidden} more rows: a taller terminal shows them")
    } else if !under.note.is_empty() {
        under.note.to_owned()
    } else {
        "Esc closes".to_owned()
    };
    let help = Paragraph::new(lines).block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" Help: {} ", under.name))
            .title_bottom(fit_text(&below, width.saturating_sub(2))),
    );
    frame.render_widget(help, area);
}
