//! Drawing pieces every feature's view uses: boxes and windows, cells of
//! store text made safe, local times, text inputs.

use super::theme::Theme;
use chrono::{DateTime, FixedOffset};
use keyward_core::safe_text::escape;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use tui_input::Input;

/// A box of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    let [_, mid, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(h),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, center, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(w),
        Constraint::Fill(1),
    ])
    .areas(mid);
    center
}

/// Escaped text from the store, ready for a cell.
pub fn safe(s: &str) -> String {
    escape(s).into_owned()
}

/// A stored UTC time in local time, to the minute.
pub fn local_time(ts: i64, offset: i32) -> String {
    format_local(ts, offset, "%Y-%m-%d %H:%M")
}

pub fn local_date(ts: i64, offset: i32) -> String {
    format_local(ts, offset, "%Y-%m-%d")
}

fn format_local(ts: i64, offset: i32, format: &str) -> String {
    let Some(tz) = FixedOffset::east_opt(offset) else {
        return String::new();
    };
    DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&tz).format(format).to_string())
        .unwrap_or_default()
}

/// The byte index of the `chars`-th character.
pub fn byte_at(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}

/// A bordered block with a title.
pub fn block(title: String) -> Block<'static> {
    Block::default().borders(Borders::ALL).title(title)
}

pub fn style_if(cond: bool, style: Style) -> Style {
    if cond { style } else { Style::new() }
}

/// Clears a centered box, draws its border and title, and returns the inside.
/// The box stays above the footer, so the hints for its keys remain in sight.
pub fn window(frame: &mut Frame, width: u16, height: u16, title: String) -> Rect {
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
pub fn wrapped_height(lines: &[Line], width: u16) -> u16 {
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
pub fn input_line<'a>(
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

pub fn place_cursor(frame: &mut Frame, inner: Rect, row: u16, label_width: u16, input: &Input) {
    let value = input.value();
    let before = safe(&value[..byte_at(value, input.cursor())])
        .chars()
        .count() as u16;
    let x = (inner.x + label_width + before).min(inner.right().saturating_sub(1));
    if row < inner.height {
        frame.set_cursor_position((x, inner.y + row));
    }
}

/// A prompt whose input is its second line: a long first line or error wraps
/// instead of being cut, and the cursor follows the input wherever it lands.
pub fn one_line_prompt(frame: &mut Frame, inner: Rect, lines: Vec<Line>, input: &Input) {
    let input_row = wrapped_height(&lines[..1], inner.width);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    place_cursor(frame, inner, input_row, 5, input);
}

/// `✗ message`, in the error style.
pub fn error_line<'a>(message: &str, theme: &Theme) -> Line<'a> {
    Line::from(Span::styled(format!("✗ {}", safe(message)), theme.error()))
}

/// "↑↓ more" on the bottom border of a scrolled list inside `inner`, saying
/// which way more rows lie; `keys` names the keys that scroll (e.g. "j/k"),
/// or is empty.
pub fn more_marker(frame: &mut Frame, inner: Rect, above: bool, below: bool, keys: &str) {
    let (arrows, keys) = match (above, below) {
        (true, true) => ("↑↓", keys),
        (true, false) => ("↑", keys.split('/').nth(1).unwrap_or(keys)),
        (false, true) => ("↓", keys.split('/').next().unwrap_or(keys)),
        (false, false) => return,
    };
    let more = if keys.is_empty() {
        format!(" {arrows} more ")
    } else {
        format!(" {arrows} more ({keys}) ")
    };
    let on_border = Rect {
        x: inner.x + 1,
        y: inner.bottom(),
        width: (more.chars().count() as u16).min(inner.width.saturating_sub(1)),
        height: 1,
    };
    frame.render_widget(Paragraph::new(more), on_border);
}
