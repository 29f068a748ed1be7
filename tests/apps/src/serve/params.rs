//! The query string of `GET /products`.

use diorama_core::vista::SortDir;

use super::schema::Schema;

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;
/// The longest search text accepted, in characters (after trimming):
/// longer is a 400, before any row is read.
pub const MAX_Q_CHARS: usize = 1000;

/// A validated `GET /products` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListParams {
    /// Index of the first row (0-based).
    pub offset: usize,
    /// Rows wanted, 1 to [`MAX_LIMIT`].
    pub limit: usize,
    /// Sort column and direction.
    pub sort: Option<(String, SortDir)>,
    /// Case-insensitive search text (never empty).
    pub q: Option<String>,
}

impl ListParams {
    /// Read `pairs` (the decoded query string):
    ///
    /// - `offset`: a non-negative integer (default 0);
    /// - `limit`: 1 to [`MAX_LIMIT`] (default [`DEFAULT_LIMIT`]);
    /// - `sort`: a column of `schema`, ascending; `-column` or
    ///   `column:desc` descending, `column:asc` ascending; empty for none;
    /// - `q`: search text, at most [`MAX_Q_CHARS`] characters; empty or
    ///   blank for none.
    ///
    /// Errors: a message for an unknown or repeated parameter, or a bad value.
    pub fn parse(pairs: &[(String, String)], schema: &Schema) -> Result<ListParams, String> {
        let mut params = ListParams {
            offset: 0,
            limit: DEFAULT_LIMIT,
            sort: None,
            q: None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                return Err(format!("parameter {name:?} is given more than once"));
            }
            seen.push(name);
            match name.as_str() {
                "offset" => params.offset = parse_number(name, value)?,
                "limit" => {
                    params.limit = parse_number(name, value)?;
                    if !(1..=MAX_LIMIT).contains(&params.limit) {
                        return Err(format!(
                            "limit must be between 1 and {MAX_LIMIT}, not {}",
                            params.limit
                        ));
                    }
                }
                "sort" => params.sort = parse_sort(value, schema)?,
                "q" => {
                    let q = value.trim();
                    let chars = q.chars().count();
                    if chars > MAX_Q_CHARS {
                        return Err(format!(
                            "q is {chars} characters long; the most is {MAX_Q_CHARS}"
                        ));
                    }
                    params.q = (!q.is_empty()).then(|| q.to_string());
                }
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}: parameters are offset, limit, sort and q"
                    ));
                }
            }
        }
        Ok(params)
    }
}

fn parse_number(name: &str, value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| format!("{name} must be a non-negative integer, not {value:?}"))
}

fn parse_sort(value: &str, schema: &Schema) -> Result<Option<(String, SortDir)>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let (column, dir) = if let Some(column) = value.strip_prefix('-') {
        (column, SortDir::Desc)
    } else if let Some((column, dir)) = value.split_once(':') {
        let dir = match dir {
            "asc" => SortDir::Asc,
            "desc" => SortDir::Desc,
            other => {
                return Err(format!("sort direction must be asc or desc, not {other:?}"));
            }
        };
        (column, dir)
    } else {
        (value, SortDir::Asc)
    };
    if schema.kind(column).is_none() {
        return Err(format!(
            "cannot sort by {column:?}: columns are {}",
            schema.names_list()
        ));
    }
    Ok(Some((column.to_string(), dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<ListParams, String> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListParams::parse(&pairs, &Schema::products())
    }

    #[test]
    fn defaults_and_values() {
        let params = parse(&[]).unwrap();
        assert_eq!((params.offset, params.limit), (0, DEFAULT_LIMIT));
        assert_eq!((params.sort, params.q), (None, None));
        let params = parse(&[
            ("offset", "20"),
            ("limit", "1000"),
            ("sort", "-price"),
            ("q", " lamp "),
        ])
        .unwrap();
        assert_eq!((params.offset, params.limit), (20, 1000));
        assert_eq!(params.sort, Some(("price".into(), SortDir::Desc)));
        assert_eq!(params.q.as_deref(), Some("lamp"));
        let sort = |s: &str| parse(&[("sort", s)]).unwrap().sort;
        assert_eq!(sort("name:desc"), Some(("name".into(), SortDir::Desc)));
        assert_eq!(sort("stock:asc"), Some(("stock".into(), SortDir::Asc)));
        assert_eq!(sort("stock"), Some(("stock".into(), SortDir::Asc)));
        assert_eq!(sort(""), None);
        assert_eq!(parse(&[("q", "  ")]).unwrap().q, None);
    }

    #[test]
    fn bad_values_are_refused_with_a_message() {
        let error = |query: &[(&str, &str)]| parse(query).unwrap_err();
        assert!(error(&[("offset", "ten")]).contains("offset"));
        assert!(error(&[("offset", "-1")]).contains("offset"));
        assert!(error(&[("limit", "1001")]).contains("between 1 and 1000"));
        assert!(error(&[("limit", "0")]).contains("between 1 and 1000"));
        assert!(error(&[("sort", "colour")]).contains("cannot sort by \"colour\""));
        assert!(error(&[("sort", "id")]).contains("cannot sort"));
        assert!(error(&[("sort", "price:up")]).contains("asc or desc"));
        assert!(error(&[("page", "2")]).contains("unknown parameter"));
        assert!(error(&[("limit", "5"), ("limit", "6")]).contains("more than once"));
        let long = "é".repeat(MAX_Q_CHARS + 1);
        assert!(error(&[("q", long.as_str())]).contains("the most is 1000"));
        let longest = "é".repeat(MAX_Q_CHARS);
        assert!(parse(&[("q", longest.as_str())]).is_ok());
    }
}
