//! Moving a cursor in a list that shows a window of its rows.

/// The cursor `by` rows from `at`, kept in a list of `len` rows.
pub fn step(at: usize, by: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    at.saturating_add_signed(by).min(len - 1)
}

/// Scrolls `offset` so the cursor row is among the `visible` rows.
pub fn keep_in_view(offset: &mut usize, cursor: usize, visible: usize, len: usize) {
    if cursor < *offset {
        *offset = cursor;
    } else if cursor >= *offset + visible {
        *offset = cursor + 1 - visible;
    }
    *offset = (*offset).min(len.saturating_sub(1));
}
