//! SQL text shared by the queries that build their filters at run time.

/// ` WHERE a AND b …`, or nothing when there is no clause.
pub(crate) fn where_all<S: AsRef<str>>(clauses: &[S]) -> String {
    if clauses.is_empty() {
        return String::new();
    }
    let joined: Vec<&str> = clauses.iter().map(AsRef::as_ref).collect();
    format!(" WHERE {}", joined.join(" AND "))
}

/// ` LIMIT … OFFSET …` for page `page` (from 1) of `per_page` rows; nothing when `per_page` is 0
/// (the reference's "no limit").
pub(crate) fn page_limit(page: u64, per_page: u64) -> String {
    if per_page == 0 {
        String::new()
    } else {
        format!(" LIMIT {per_page} OFFSET {}", page.saturating_sub(1) * per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_and_pages() {
        assert_eq!(where_all::<&str>(&[]), "");
        assert_eq!(where_all(&["a = ?", "b < ?"]), " WHERE a = ? AND b < ?");
        assert_eq!(where_all(&[String::from("x IN (?)")]), " WHERE x IN (?)");
        assert_eq!(page_limit(1, 0), "");
        assert_eq!(page_limit(1, 20), " LIMIT 20 OFFSET 0");
        assert_eq!(page_limit(3, 20), " LIMIT 20 OFFSET 40");
    }
}
