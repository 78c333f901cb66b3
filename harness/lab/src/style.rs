//! Colours for results on stdout: only when stdout is a terminal, `NO_COLOR` is unset and `TERM` is
//! not `dumb`.

use std::io::IsTerminal;

/// Whether to colour, decided once per run.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// The style for stdout as it is now.
    pub fn for_stdout() -> Style {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
            && std::env::var_os("TERM").is_none_or(|term| term != "dumb");
        Style { color }
    }

    /// No colours at all: for files and tests.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// Success.
    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Failure.
    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Warnings, time-outs.
    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Headings.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Secondary text.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// `✓` in green or `✗` in red.
    pub fn mark(self, ok: bool) -> String {
        if ok { self.green("✓") } else { self.red("✗") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_style_adds_no_escapes() {
        let style = Style::plain();
        assert_eq!(style.red("x"), "x");
        assert_eq!(style.mark(true), "✓");
        assert_eq!(Style { color: true }.green("ok"), "\x1b[32mok\x1b[0m");
    }
}
