//! Lists in the API come a page at a time, in one shape:
//! `{"items": [...], "next": "CURSOR" | null}`. A client asks `?limit=N` (1–200, default 50)
//! and passes `next` back as `?after=CURSOR` for the following page; `next` is `null` on the
//! last page. Cursors are keyset positions (the last item's place in the list), so a page is
//! one index range scan however deep it is, and rows written meanwhile neither repeat nor skip.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// `?limit=&after=`, as given (checked by [`ListQuery::window`]).
#[derive(Deserialize, Default, Debug, Clone)]
pub struct ListQuery {
    pub limit: Option<String>,
    pub after: Option<String>,
}

/// The query of a page that shows a list a page at a time: `?lang=&limit=&after=`.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct PageQuery {
    pub lang: Option<String>,
    #[serde(flatten)]
    pub list: ListQuery,
}

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window<C> {
    /// Items per page, 1–[`MAX_LIMIT`].
    pub limit: u32,
    /// Start after this position; `None`: from the start.
    pub after: Option<C>,
}

impl<C> Window<C> {
    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> u32 {
        self.limit + 1
    }
}

impl ListQuery {
    /// Checks `limit` and parses `after` with `cursor` (which returns `None` for a cursor it
    /// did not make).
    pub fn window<C>(&self, cursor: impl Fn(&str) -> Option<C>) -> Result<Window<C>, ApiError> {
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_input(
                        format!(
                            "limit 应是 1 到 {MAX_LIMIT} 之间的整数，收到「{}」",
                            clip(s)
                        ),
                        format!(
                            "limit must be a whole number from 1 to {MAX_LIMIT}, got \"{}\"",
                            clip(s)
                        ),
                    )
                })?,
        };
        let after = match self.after.as_deref() {
            None | Some("") => None,
            Some(s) => Some(cursor(s).ok_or_else(|| {
                ApiError::bad_input(
                    "after 不是本列表给出的 next 值：请从第一页重新开始",
                    "after is not a next value this list gave: start again from the first page",
                )
            })?),
        };
        Ok(Window { limit, after })
    }

    /// The window of a list whose cursor is a row id (a positive decimal integer).
    pub fn by_id(&self) -> Result<Window<i64>, ApiError> {
        self.window(|s| crate::whole_number::<i64>(s).filter(|n| *n > 0))
    }
}

/// One page: `rows` were fetched with [`Window::fetch`] (one extra, if any remain); `cursor`
/// names the position of an item.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub fn of<C>(mut rows: Vec<T>, window: &Window<C>, cursor: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() > window.limit as usize;
        rows.truncate(window.limit as usize);
        let next = if more { rows.last().map(cursor) } else { None };
        Page { items: rows, next }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(20).collect()
}

/// The query parameters of a paginated operation, for the OpenAPI table.
pub const QUERY: [(&str, bool, &str, &str); 2] = [
    (
        "limit",
        false,
        "每页条数 items per page, 1–200 (default 50)",
        "^(200|1[0-9]{2}|[1-9][0-9]?)$",
    ),
    (
        "after",
        false,
        "从上一页的 next 接着取 the previous page's next (empty: from the start)",
        "^[0-9A-Za-z_-]{0,200}$",
    ),
];

/// JSON Schema of a page whose items follow `item`.
pub fn schema(item: Value) -> Value {
    json!({
        "type": "object", "required": ["items", "next"],
        "properties": {
            "items": { "type": "array", "items": item },
            "next": { "type": ["string", "null"], "description": "下一页 pass as ?after= for the next page; null on the last" }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(limit: Option<&str>, after: Option<&str>) -> ListQuery {
        ListQuery {
            limit: limit.map(String::from),
            after: after.map(String::from),
        }
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(q(None, None).by_id().unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(q(Some("200"), None).by_id().unwrap().limit, 200);
        assert_eq!(q(Some("1"), None).by_id().unwrap().limit, 1);
        for bad in ["0", "201", "-1", "1.5", "ten", "", "99999999999999999999"] {
            let e = q(Some(bad), None).by_id().unwrap_err();
            assert_eq!(e.status.as_u16(), 400, "{bad}");
            assert!(e.en.contains("from 1 to 200"), "{}", e.en);
        }
    }

    #[test]
    fn cursors_are_checked() {
        assert_eq!(q(None, Some("17")).by_id().unwrap().after, Some(17));
        assert_eq!(q(None, Some("")).by_id().unwrap().after, None);
        for bad in ["0", "-3", "+3", "x", "1e3"] {
            assert!(q(None, Some(bad)).by_id().is_err(), "{bad}");
        }
    }

    #[test]
    fn next_only_when_more_remain() {
        let w = Window {
            limit: 2,
            after: None::<i64>,
        };
        let p = Page::of(vec![5, 4, 3], &w, |n| n.to_string());
        assert_eq!((p.items, p.next), (vec![5, 4], Some("4".into())));
        let p = Page::of(vec![5, 4], &w, |n| n.to_string());
        assert_eq!((p.items, p.next), (vec![5, 4], None));
        let p = Page::of(Vec::<i32>::new(), &w, |n| n.to_string());
        assert_eq!((p.items.len(), p.next), (0, None));
    }
}
