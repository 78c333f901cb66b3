//! Writing results: a table for people, JSON for programs.
//!
//! Keys are bytes and need not be UTF-8; both outputs print them as `String::from_utf8_lossy` does,
//! with U+FFFD for bytes that are not.

use std::io::{self, Write};

use serde::Serialize;

/// The answer to `top` and `words`: the most frequent keys and how the input went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopReport {
    /// The field's name (`url`, `word`, …).
    pub field: String,
    /// Valid lines read (for `words --text`: words counted).
    pub total: u64,
    /// Malformed lines skipped.
    pub malformed: u64,
    /// Keys with their counts, most frequent first.
    pub top: Vec<(Vec<u8>, u64)>,
}

impl TopReport {
    /// Writes `{"field": F, "total": T, "malformed": M, "top": [{"key": K, "count": C}, ...]}` and a
    /// newline.
    ///
    /// # Errors
    ///
    /// Any error writing to `out`.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        #[derive(Serialize)]
        struct Json<'a> {
            field: &'a str,
            total: u64,
            malformed: u64,
            top: Vec<Entry>,
        }
        #[derive(Serialize)]
        struct Entry {
            key: String,
            count: u64,
        }
        let top = self
            .top
            .iter()
            .map(|(key, count)| Entry { key: String::from_utf8_lossy(key).into_owned(), count: *count })
            .collect();
        let json = Json { field: &self.field, total: self.total, malformed: self.malformed, top };
        serde_json::to_writer(&mut *out, &json)?;
        out.write_all(b"\n")
    }

    /// Writes a two-column table: the count right-aligned, then the key.
    ///
    /// # Errors
    ///
    /// Any error writing to `out`.
    pub fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let width = self.top.first().map_or(0, |(_, count)| count.to_string().len()).max("count".len());
        writeln!(out, "{:>width$}  {}", "count", self.field)?;
        for (key, count) in &self.top {
            writeln!(out, "{count:>width$}  {}", String::from_utf8_lossy(key))?;
        }
        Ok(())
    }
}

/// The answer to `summary`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SummaryReport {
    /// Valid lines read.
    pub total: u64,
    /// Malformed lines skipped.
    pub malformed: u64,
    /// The sum of the valid lines' byte counts.
    pub bytes: u64,
    /// How many different client addresses sent requests.
    pub distinct_ips: u64,
    /// The earliest time seen, as nginx writes it.
    pub first: Option<String>,
    /// The latest time seen, as nginx writes it.
    pub last: Option<String>,
    /// Valid lines by status class: `1xx` to `5xx`, and `other` for codes outside 100–599.
    pub status_classes: std::collections::BTreeMap<String, u64>,
}

impl SummaryReport {
    /// Writes the report as one JSON object and a newline.
    ///
    /// # Errors
    ///
    /// Any error writing to `out`.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// Writes the report as aligned `name  value` lines.
    ///
    /// # Errors
    ///
    /// Any error writing to `out`.
    pub fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let none = "-".to_owned();
        writeln!(out, "valid lines     {}", self.total)?;
        writeln!(out, "malformed lines {}", self.malformed)?;
        writeln!(out, "bytes sent      {}", self.bytes)?;
        writeln!(out, "distinct ips    {}", self.distinct_ips)?;
        writeln!(out, "first           {}", self.first.as_ref().unwrap_or(&none))?;
        writeln!(out, "last            {}", self.last.as_ref().unwrap_or(&none))?;
        for (class, count) in &self.status_classes {
            writeln!(out, "status {class:<8} {count}")?;
        }
        Ok(())
    }
}
