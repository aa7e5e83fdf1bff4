//! Aligned columns (two spaces apart, no trailing blanks), as `kubectl get` prints them.

/// `rows[0]` is the header; every row has the same number of cells.
pub(crate) fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = vec![
            vec!["HOST".to_owned(), "TYPE".to_owned(), "CLIENT-ID".to_owned()],
            vec!["compute-1".to_owned(), "primary".to_owned(), String::new()],
            vec!["h2".to_owned(), "nfv".to_owned(), "1".to_owned()],
        ];
        assert_eq!(
            render(&rows),
            "HOST       TYPE     CLIENT-ID\ncompute-1  primary\nh2         nfv      1\n"
        );
    }
}
