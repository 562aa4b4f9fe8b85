//! Tables as Helm prints them (gosuri/uitable behind `output.EncodeTable`): every cell padded with
//! spaces to its column's width, the last column too, cells joined by a tab, rows by newlines, and
//! one newline after the last row. Scripts that cut Helm's tables on tabs work on ours.
//!
//! A cell holding several lines (a multi-line failure description) makes its row that many lines
//! tall; the other cells of the extra lines are blank, as uitable draws them.

use std::io::{self, Write};

/// Rows of cells, rendered with aligned columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// Appends a row (the header is just the first row, as in uitable).
    pub fn add_row<I, S>(&mut self, cells: I) -> &mut Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table text without the final newline (uitable's `String`); empty for no rows.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = Vec::new();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if widths.len() <= i {
                    widths.push(0);
                }
                let w = cell.split('\n').map(width).max().unwrap_or(0);
                widths[i] = widths[i].max(w);
            }
        }
        let mut lines: Vec<String> = Vec::new();
        for row in &self.rows {
            let split: Vec<Vec<&str>> = row.iter().map(|c| c.split('\n').collect()).collect();
            let height = split.iter().map(Vec::len).max().unwrap_or(1);
            for x in 0..height {
                let cells: Vec<String> = split
                    .iter()
                    .enumerate()
                    .map(|(y, parts)| match parts.get(x) {
                        Some(text) => pad_right(text, widths[y]),
                        // uitable pads a missing cell as `PadLeft(" ", width)`: at least one space.
                        None => " ".repeat(widths[y].max(1)),
                    })
                    .collect();
                lines.push(cells.join("\t"));
            }
        }
        lines.join("\n")
    }

    /// Writes the table and a newline, as Helm's `output.EncodeTable` does (so a table with no
    /// rows is a lone newline).
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut text = self.render();
        text.push('\n');
        out.write_all(text.as_bytes())
    }
}

/// Display width of a line. Characters are counted as one column each; uitable measures East
/// Asian wide characters as two (go-runewidth), which only matters for such release names.
fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad_right(s: &str, w: usize) -> String {
    let n = width(s);
    if n >= w {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + w - n);
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', w - n));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_uitable() {
        // Expected texts follow gosuri/uitable Table.String (Resize pads right, Separator "\t")
        // and helm's EncodeTable (adds "\n").
        let cases: [(&str, Vec<Vec<&str>>, &str); 5] = [
            ("no rows", vec![], "\n"),
            (
                "history header and one row",
                vec![
                    vec![
                        "REVISION",
                        "UPDATED",
                        "STATUS",
                        "CHART",
                        "APP VERSION",
                        "DESCRIPTION",
                    ],
                    vec![
                        "1",
                        "Mon Oct  3 10:15:13 2016",
                        "deployed",
                        "alpine-0.1.0",
                        "1.0",
                        "Install complete",
                    ],
                ],
                "REVISION\tUPDATED                 \tSTATUS  \tCHART       \tAPP VERSION\tDESCRIPTION     \n\
                 1       \tMon Oct  3 10:15:13 2016\tdeployed\talpine-0.1.0\t1.0        \tInstall complete\n",
            ),
            (
                "empty column stays empty",
                vec![vec!["A", "", "C"], vec!["bb", "", "c"]],
                "A \t\tC\nbb\t\tc\n",
            ),
            (
                "multi-line cell adds blank cells",
                vec![vec!["1", "failed", "line one\nline two"]],
                "1\tfailed\tline one\n \t      \tline two\n",
            ),
            (
                "short rows",
                vec![vec!["NAME", "X"], vec!["a"]],
                "NAME\tX\na   \n",
            ),
        ];
        for (name, rows, want) in cases {
            let mut t = Table::new();
            for r in rows {
                t.add_row(r);
            }
            let mut out = Vec::new();
            t.write(&mut out).expect(name);
            assert_eq!(String::from_utf8(out).expect(name), want, "{name}");
        }
    }
}
