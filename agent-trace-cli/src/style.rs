//! Colours on a terminal only, never with `NO_COLOR`; the terminal's width.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Effects, Style};

/// Whether and how to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Painter {
    on: bool,
}

impl Painter {
    /// Colours when stdout is a terminal and `NO_COLOR` is unset or empty
    /// (<https://no-color.org>).
    pub fn for_stdout() -> Painter {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Painter {
            on: std::io::stdout().is_terminal() && !no_color,
        }
    }

    /// A painter that never colours.
    pub fn plain() -> Painter {
        Painter { on: false }
    }

    /// Whether colours are on.
    pub fn is_on(&self) -> bool {
        self.on
    }

    fn paint(&self, text: &str, style: Style) -> String {
        if self.on {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    /// In the colour of a span kind.
    pub fn kind(&self, kind: &str, text: &str) -> String {
        let color = match kind {
            "agent" => AnsiColor::Cyan,
            "generation" | "response" => AnsiColor::Magenta,
            "function" | "mcp_tools" => AnsiColor::Green,
            "handoff" => AnsiColor::Yellow,
            "guardrail" => AnsiColor::Blue,
            _ => AnsiColor::White,
        };
        self.paint(text, color.on_default())
    }

    /// An error.
    pub fn error(&self, text: &str) -> String {
        self.paint(text, AnsiColor::Red.on_default().effects(Effects::BOLD))
    }

    /// A heading.
    pub fn bold(&self, text: &str) -> String {
        self.paint(text, Style::new().effects(Effects::BOLD))
    }

    /// Secondary text.
    pub fn dim(&self, text: &str) -> String {
        self.paint(text, Style::new().effects(Effects::DIMMED))
    }
}

/// The width to fit: `--width`, else the terminal's, else `COLUMNS`, else 100; at least 60.
pub fn width(flag: Option<usize>) -> usize {
    let w = flag
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .unwrap_or(100);
    w.max(60)
}

/// `text` cut to `max` characters (with `…`) or padded with spaces to exactly `max`.
pub fn fit(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        let mut s = text.to_owned();
        s.extend(std::iter::repeat_n(' ', max - n));
        s
    } else if max == 0 {
        String::new()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_and_pads_by_characters() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("é→ü", 3), "é→ü");
        assert_eq!(fit("x", 0), "");
    }

    #[test]
    fn plain_never_colours() {
        let p = Painter::plain();
        assert_eq!(p.error("boom"), "boom");
        assert_eq!(p.kind("agent", "A"), "A");
    }
}
