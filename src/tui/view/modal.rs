//! Modals drawn over the tab: the key form, confirmations, renew, the new
//! secret's one showing, the team picker, the column menu and the prompts.

use super::{byte_at, centered, safe};
use crate::tui::state::*;
use crate::tui::theme::Theme;
use crate::tui::update::{DEACTIVATION_WARNINGS, suggestions};
use keyward_core::export::{Column, ExportFormat};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use tui_input::Input;

pub fn draw(state: &State, modal: &Modal, theme: &Theme, frame: &mut Frame) {
    match modal {
        Modal::Form(form) => key_form(form, theme, frame),
        Modal::Confirm(c) => confirm(c, theme, frame),
        Modal::Renew(r) => renew(r, theme, frame),
        Modal::NewSecret(s) => new_secret(s, state, theme, frame),
        Modal::TeamPicker(p) => team_picker(p, theme, frame),
        Modal::Columns { cursor, .. } => columns(state, *cursor, theme, frame),
        Modal::Export(p) => export(p, theme, frame),
        Modal::NamePrompt(p) => name_prompt(p, theme, frame),
    }
}

/// Clears a centered box, draws its border and title, and returns the inside.
/// The box stays above the footer, so the hints for its keys remain in sight.
fn window(frame: &mut Frame, width: u16, height: u16, title: String) -> Rect {
    let mut above_footer = frame.area();
    above_footer.height = above_footer.height.saturating_sub(1);
    let area = centered(above_footer, width, height);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .padding(ratatui::widgets::Padding::horizontal(1));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// The rows `lines` take in a `Paragraph` wrapped (`trim: false`) at `width`,
/// measured by drawing them, so a cursor or the next block lands on the right row.
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    if width == 0 || lines.is_empty() {
        return 0;
    }
    let blank_tail = lines.iter().rev().take_while(|l| l.width() == 0).count();
    let most: usize = lines
        .iter()
        .map(|l| 2 * (l.width() / usize::from(width) + 1))
        .sum();
    let probe = Rect::new(0, 0, width, most.min(1_000) as u16);
    let mut buf = Buffer::empty(probe);
    Paragraph::new(lines.to_vec())
        .wrap(Wrap { trim: false })
        .render(probe, &mut buf);
    let drawn = (0..probe.height)
        .rev()
        .find(|&y| (0..width).any(|x| buf[(x, y)].symbol() != " "))
        .map_or(0, |y| y + 1);
    drawn + blank_tail as u16
}

/// `label value` on one line, the cursor placed in the value when focused.
fn input_line<'a>(
    label: &str,
    width: usize,
    input: &Input,
    focused: bool,
    theme: &Theme,
) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<width$}"), theme.header()),
        Span::styled(
            format!("{} ", safe(input.value())),
            if focused {
                Style::new().add_modifier(ratatui::style::Modifier::UNDERLINED)
            } else {
                Style::new()
            },
        ),
    ])
}

fn place_cursor(frame: &mut Frame, inner: Rect, row: u16, label_width: u16, input: &Input) {
    let value = input.value();
    let before = safe(&value[..byte_at(value, input.cursor())])
        .chars()
        .count() as u16;
    let x = (inner.x + label_width + before).min(inner.right().saturating_sub(1));
    if row < inner.height {
        frame.set_cursor_position((x, inner.y + row));
    }
}

fn key_form(form: &KeyForm, theme: &Theme, frame: &mut Frame) {
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
                "No instances yet. Add one first: keyward instance add NAME --cloud salesforce",
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

fn confirm(c: &Confirm, theme: &Theme, frame: &mut Frame) {
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
    lines.push(Line::from(Span::styled(
        "y: yes, do it · n / Esc: no",
        theme.key(),
    )));
    // As tall as the text once wrapped, with a spare row under it.
    let width = 74.min(frame.area().width);
    let height = wrapped_height(&lines, width.saturating_sub(2)) + 3;
    let inner = window(frame, width, height, format!(" {} ", safe(&c.title)));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn renew(r: &RenewForm, theme: &Theme, frame: &mut Frame) {
    let inner = window(frame, 74, 12, format!(" Renew {}? ", safe(&r.key.name)));
    let mut lines = vec![
        Line::from(format!(
            "Key {}: a new secret replaces the current one.",
            r.masked
        )),
        Line::from("The old secret stops working at once, or when the grace period ends."),
        Line::from(""),
        input_line("Grace", 9, &r.grace, r.focus == 0, theme),
        input_line("Expires", 9, &r.expires, r.focus == 1, theme),
        Line::from(Span::styled(
            "Grace: empty for none, or 24h, 7d…",
            theme.dim(),
        )),
    ];
    if let Some(e) = &r.error {
        lines.push(error_line(e, theme));
    } else if r.saving {
        lines.push(Line::from("Renewing…"));
    }
    // The explanation above the inputs wraps on a narrow screen.
    let inputs_row = wrapped_height(&lines[..3], inner.width);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    let input = if r.focus == 0 { &r.grace } else { &r.expires };
    place_cursor(frame, inner, inputs_row + r.focus as u16, 9, input);
}

fn new_secret(s: &NewSecret, state: &State, theme: &Theme, frame: &mut Frame) {
    let verb = if s.renewed { "renewed" } else { "created" };
    let inner = window(
        frame,
        76,
        13,
        format!(" Key {verb}: {} ", safe(&s.key.name)),
    );
    let copied = match (&s.copied, &s.copy_error) {
        (Some(via), _) => Line::from(Span::styled(
            format!(
                "✓ Copied to {}; cleared after {} s.",
                via.describe(),
                state.settings.clipboard_clear.as_secs()
            ),
            theme.ok(),
        )),
        (None, Some(e)) => Line::from(Span::styled(
            format!("✗ Could not copy ({}); copy it from the screen.", safe(e)),
            theme.error(),
        )),
        (None, None) => Line::from(Span::styled("Not copied yet: press c.", theme.warning())),
    };
    let lines = vec![
        Line::from(Span::styled(s.token.expose().to_owned(), theme.secret())),
        Line::from(""),
        Line::from("This is the only time the full key is shown; it will not be shown again."),
        Line::from("Copy it now and hand it over safely."),
        Line::from(format!(
            "{} · {} · {}",
            safe(&s.key.instance),
            safe(&s.key.developer),
            safe(&s.key.channel)
        )),
        Line::from(""),
        copied,
        Line::from(""),
        Line::from(Span::styled("c: copy · Esc: close", theme.key())),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn team_picker(p: &TeamPicker, theme: &Theme, frame: &mut Frame) {
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

fn columns(state: &State, cursor: usize, theme: &Theme, frame: &mut Frame) {
    let inner = window(
        frame,
        40,
        Column::ALL.len() as u16 + 2,
        " Columns ".to_owned(),
    );
    // On a short terminal the list scrolls with the cursor.
    let room = usize::from(inner.height).max(1);
    let start = cursor
        .saturating_sub(room - 1)
        .min(Column::ALL.len().saturating_sub(room));
    let lines: Vec<Line> = Column::ALL
        .iter()
        .enumerate()
        .skip(start)
        .take(room)
        .map(|(i, c)| {
            let on = state.history.columns.contains(c);
            Line::from(Span::styled(
                format!(
                    "{} [{}] {}",
                    if i == cursor { "›" } else { " " },
                    if on { "x" } else { " " },
                    c.title()
                ),
                if i == cursor {
                    theme.cursor()
                } else {
                    Style::new()
                },
            ))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
    let more = match (start > 0, start + room < Column::ALL.len()) {
        (true, true) => " ↑↓ more ",
        (true, false) => " ↑ more ",
        (false, true) => " ↓ more ",
        (false, false) => "",
    };
    if !more.is_empty() {
        let on_border = Rect {
            x: inner.x + 1,
            y: inner.bottom(),
            width: (more.chars().count() as u16).min(inner.width.saturating_sub(1)),
            height: 1,
        };
        frame.render_widget(Paragraph::new(more), on_border);
    }
}

fn export(p: &ExportPrompt, theme: &Theme, frame: &mut Frame) {
    let inner = window(frame, 76, 8, " Export the history shown ".to_owned());
    let format = match p.format {
        ExportFormat::Csv => "CSV",
        ExportFormat::Json => "JSON",
    };
    let mut lines = vec![
        Line::from("Every row the filter matches, in the columns shown."),
        input_line("File ", 5, &p.path, true, theme),
        Line::from(vec![
            Span::styled("Format ", theme.header()),
            Span::raw(format),
            Span::styled("  (Tab switches)", theme.dim()),
        ]),
    ];
    if let Some(e) = &p.error {
        lines.push(error_line(e, theme));
    }
    one_line_prompt(frame, inner, lines, &p.path);
}

fn name_prompt(p: &NamePrompt, theme: &Theme, frame: &mut Frame) {
    let (title, what) = match &p.purpose {
        NamePurpose::SaveFilter { query } => (" Save filter ".to_owned(), safe(query)),
        NamePurpose::RenameFilter { from } => (" Rename filter ".to_owned(), safe(from)),
    };
    let inner = window(frame, 70, 7, title);
    let mut lines = vec![
        Line::from(Span::styled(what, theme.dim())),
        input_line("Name ", 5, &p.input, true, theme),
    ];
    if let Some(e) = &p.error {
        lines.push(error_line(e, theme));
    }
    one_line_prompt(frame, inner, lines, &p.input);
}

/// A prompt whose input is its second line: a long first line or error wraps
/// instead of being cut, and the cursor follows the input wherever it lands.
fn one_line_prompt(frame: &mut Frame, inner: Rect, lines: Vec<Line>, input: &Input) {
    let input_row = wrapped_height(&lines[..1], inner.width);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    place_cursor(frame, inner, input_row, 5, input);
}

/// `✗ message`, in the error style.
fn error_line<'a>(message: &str, theme: &Theme) -> Line<'a> {
    Line::from(Span::styled(format!("✗ {}", safe(message)), theme.error()))
}
