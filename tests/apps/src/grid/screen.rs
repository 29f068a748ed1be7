//! A drawn screen as plain text, for `--screen` and tests.

use ratatui::buffer::Buffer;

/// The buffer's lines, trailing blanks trimmed, joined by newlines.
pub fn buffer_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::with_capacity(usize::from(area.width + 1) * usize::from(area.height));
    for y in area.top()..area.bottom() {
        let mut line = String::with_capacity(usize::from(area.width));
        for x in area.left()..area.right() {
            if let Some(cell) = buffer.cell((x, y)) {
                line.push_str(cell.symbol());
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
