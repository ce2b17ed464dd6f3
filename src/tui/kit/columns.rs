//! Tables that fit: column widths worked out from what the cells hold, and
//! cells cut to their width with `…`, so no value is cut without a mark.

use unicode_width::UnicodeWidthStr;

/// What a column asks of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Want {
    /// The narrowest the column is drawn at all.
    pub min: u16,
    /// How wide its widest cell (header included) is.
    pub content: u16,
    /// How wide its widest cell is in the short form it shows when the long
    /// one does not fit (`content` for a column with no short form).
    pub short: u16,
    /// Which columns go first when even the minimums do not fit: the
    /// highest rank goes first, and every column ranked after it with it.
    pub rank: u8,
}

/// The width of each column, `0` for a column left out. The columns kept and
/// the `gap` between them never take more than `room`; each kept column gets
/// its minimum (or its content, if narrower), and the room left is shared out
/// by need — how much each column's content wants beyond that — a level at a
/// time, so a column with long content gets more only once the others have
/// what they need and no single column takes it all.
pub fn widths(columns: &[Want], room: u16, gap: u16) -> Vec<u16> {
    let base = |w: &Want| w.min.min(w.content);
    let mut by_rank: Vec<usize> = (0..columns.len()).collect();
    by_rank.sort_by_key(|&i| columns[i].rank);
    let mut out = vec![0u16; columns.len()];
    let mut used = 0u32;
    for &i in &by_rank {
        let w = u32::from(columns[i].min.max(1));
        let with_gap = if used == 0 { w } else { w + u32::from(gap) };
        if used + with_gap > u32::from(room) {
            break;
        }
        used += with_gap;
        out[i] = 1;
    }
    let kept: Vec<usize> = by_rank.into_iter().filter(|&i| out[i] == 1).collect();
    let mut left = u32::from(room);
    for (n, &i) in kept.iter().enumerate() {
        out[i] = base(&columns[i]).max(1);
        left -= u32::from(out[i]) + if n == 0 { 0 } else { u32::from(gap) };
    }
    let open: Vec<usize> = kept.clone();
    fill(columns, &mut out, open, &mut left);
    // A column that cannot show its long form shows its short one: it gives
    // back what the short form does not use, and the others share that.
    let mut settled = Vec::new();
    for &i in &kept {
        let short = columns[i].short.max(base(&columns[i])).max(1);
        if out[i] < columns[i].content && short < out[i] {
            left += u32::from(out[i] - short);
            out[i] = short;
            settled.push(i);
        }
    }
    let open: Vec<usize> = kept.into_iter().filter(|i| !settled.contains(i)).collect();
    fill(columns, &mut out, open, &mut left);
    out
}

/// Water-filling: an equal share of `left` to every `open` column still short
/// of its content, capped at what it lacks, until the room or the needs run out.
fn fill(columns: &[Want], out: &mut [u16], mut open: Vec<usize>, left: &mut u32) {
    open.retain(|&i| out[i] < columns[i].content);
    while *left > 0 && !open.is_empty() {
        let share = (*left / open.len() as u32).max(1);
        for &i in &open {
            let lacks = u32::from(columns[i].content - out[i]);
            let give = share.min(lacks).min(*left);
            out[i] += give as u16;
            *left -= give;
        }
        open.retain(|&i| out[i] < columns[i].content);
    }
}

/// The display width of `text` in terminal cells.
pub fn text_width(text: &str) -> u16 {
    u16::try_from(text.width()).unwrap_or(u16::MAX)
}

/// `text` in at most `width` terminal cells: whole if it fits, else cut and
/// ended with `…`. Wide characters count as two cells and are never split.
pub fn fit_text(text: &str, width: u16) -> String {
    let width = usize::from(width);
    if text.width() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    // Measured as a string, not char by char: a sequence can be wider than
    // its characters (a digit and U+FE0F, emoji presentation, take two cells).
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if out.width() > width - 1 {
            out.pop();
            break;
        }
    }
    // `payments …` reads as a cut after a space: the mark goes on the word.
    let kept = out.trim_end().len();
    out.truncate(kept);
    out.push('…');
    out
}

/// A cell with a long form and a short one: the long form if it fits, else
/// the short form, cut with `…` if even that does not fit.
pub fn fit_either(long: &str, short: &str, width: u16) -> String {
    if text_width(long) <= width {
        long.to_owned()
    } else {
        fit_text(short, width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn want(min: u16, content: u16, rank: u8) -> Want {
        Want {
            min,
            content,
            short: content,
            rank,
        }
    }

    fn total(widths: &[u16], gap: u16) -> u32 {
        let kept = widths.iter().filter(|w| **w > 0).count() as u32;
        widths.iter().map(|w| u32::from(*w)).sum::<u32>() + kept.saturating_sub(1) * u32::from(gap)
    }

    #[test]
    fn columns_that_fit_get_their_content() {
        let w = widths(&[want(4, 10, 0), want(4, 6, 1)], 40, 1);
        assert_eq!(w, [10, 6]);
    }

    #[test]
    fn spare_room_goes_by_need_not_all_to_one_column() {
        // 30 cells: minimums 5 + 5 + 5 and two gaps leave 13 to share; the
        // short column needs 1 more, the two long ones share the other 12.
        let w = widths(&[want(5, 80, 0), want(5, 6, 1), want(5, 80, 2)], 30, 1);
        assert_eq!(w, [11, 6, 11]);
        assert_eq!(total(&w, 1), 30);
    }

    #[test]
    fn the_highest_ranks_go_first_and_take_those_after_them() {
        // The rank 1 column does not fit; the rank 2 one would, but goes too.
        let w = widths(&[want(10, 10, 0), want(10, 10, 1), want(3, 3, 2)], 20, 1);
        assert_eq!(w, [10, 0, 0]);
    }

    #[test]
    fn a_column_cut_to_its_short_form_gives_back_what_it_does_not_use() {
        // Dates of 12 cells with a 7-cell short form, and a long name: the
        // dates cannot be whole in 22 cells, so they take 7 and the name the
        // rest, not 9 cells of which 2 stay empty.
        let date = Want {
            min: 7,
            content: 12,
            short: 7,
            rank: 1,
        };
        let w = widths(&[want(10, 40, 0), date], 22, 1);
        assert_eq!(w, [14, 7]);
        // In 30 cells the dates are whole beside a name of 17.
        assert_eq!(widths(&[want(10, 40, 0), date], 30, 1), [17, 12]);
    }

    #[test]
    fn a_column_with_short_content_is_narrower_than_its_minimum() {
        assert_eq!(widths(&[want(8, 2, 0)], 20, 1), [2]);
    }

    #[test]
    fn text_that_fits_is_whole() {
        assert_eq!(fit_text("payments", 8), "payments");
    }

    #[test]
    fn cut_text_ends_with_an_ellipsis() {
        assert_eq!(fit_text("payments", 5), "paym…");
        assert_eq!(fit_text("payments", 1), "…");
        assert_eq!(fit_text("payments", 0), "");
    }

    #[test]
    fn wide_characters_are_never_split() {
        // Each of 日本語 takes two cells.
        assert_eq!(fit_text("日本語", 4), "日…");
        assert_eq!(fit_text("日本語", 5), "日本…");
        assert_eq!(fit_text("日本語", 6), "日本語");
    }

    #[test]
    fn a_sequence_wider_than_its_characters_is_measured_whole() {
        // `0` then U+FE0F (emoji presentation) takes two cells, not one.
        let text = "並0AA®0 𝼥ஒ0\u{fe0f}𐺀 A 🌀0𑐀꠰";
        let fitted = fit_text(text, 18);
        assert!(text_width(&fitted) <= 18, "{fitted:?}");
        assert!(fitted.ends_with('…'));
        assert_eq!(text_width(&fit_text("ab0\u{fe0f}", 3)), 3);
    }

    #[test]
    fn the_short_form_is_used_when_the_long_one_does_not_fit() {
        assert_eq!(fit_either("2026-03-19 !", "in 9d !", 12), "2026-03-19 !");
        assert_eq!(fit_either("2026-03-19 !", "in 9d !", 8), "in 9d !");
        assert_eq!(fit_either("2026-03-19 !", "in 9d !", 5), "in 9…");
    }

    proptest! {
        #[test]
        fn widths_never_exceed_the_room(
            columns in prop::collection::vec((1u16..30, 0u16..120, 0u8..10), 0..12),
            room in 0u16..250,
            gap in 0u16..3,
        ) {
            let columns: Vec<Want> =
                columns.into_iter().map(|(m, c, r)| want(m, c, r)).collect();
            let w = widths(&columns, room, gap);
            prop_assert!(total(&w, gap) <= u32::from(room));
            for (c, w) in columns.iter().zip(&w) {
                if *w > 0 {
                    // At least its minimum, or its content when that is less,
                    // and never wider than its content needs.
                    prop_assert!(*w >= c.min.min(c.content).max(1));
                    prop_assert!(*w <= c.content.max(c.min.min(c.content)).max(1));
                }
            }
        }

        #[test]
        fn every_column_is_kept_when_the_minimums_fit(
            columns in prop::collection::vec((1u16..20, 0u16..120, 0u8..10), 1..10),
            extra in 0u16..100,
        ) {
            let columns: Vec<Want> =
                columns.into_iter().map(|(m, c, r)| want(m, c, r)).collect();
            let need: u16 = columns.iter().map(|c| c.min).sum::<u16>() + columns.len() as u16 - 1;
            let w = widths(&columns, need + extra, 1);
            prop_assert!(w.iter().all(|w| *w > 0));
        }

        #[test]
        fn room_is_shared_fairly(
            columns in prop::collection::vec((1u16..20, 0u16..120), 2..8),
            room in 0u16..250,
        ) {
            let columns: Vec<Want> =
                columns.into_iter().map(|(m, c)| want(m, c, 0)).collect();
            let w = widths(&columns, room, 1);
            // A column is short of its content only when every other column
            // got no more beyond its base than it did, give or take one cell:
            // no single column hogs the spare width.
            for (i, c) in columns.iter().enumerate() {
                if w[i] == 0 || w[i] >= c.content {
                    continue;
                }
                let extra_i = w[i] - c.min.min(c.content);
                for (j, d) in columns.iter().enumerate() {
                    if w[j] > 0 {
                        prop_assert!(w[j] - d.min.min(d.content) <= extra_i + 1);
                    }
                }
            }
        }

        #[test]
        fn fitted_text_fits_and_says_when_it_was_cut(text in "\\PC{0,40}", width in 0u16..30) {
            let fitted = fit_text(&text, width);
            prop_assert!(text_width(&fitted) <= width);
            if fitted != text {
                prop_assert!(width == 0 || fitted.ends_with('…'));
            }
        }
    }
}
