//! One event, one line. Log lines carry text from users and webhooks (a repository name, a
//! provider's error, a refused signature's claims); a newline in it would let that text forge
//! a line of its own. Every event is written through `OneLine`, which escapes line breaks and
//! other control characters inside it, so the class is closed for every field at once rather
//! than call site by call site. (Escape sequences for terminals are escaped by
//! tracing-subscriber itself.)

use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;

/// Writes each event to `W` with its inner control characters escaped (`\n`, `\r`, `\u{8}`…),
/// keeping the one line break that ends it.
pub struct OneLine<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = Escaping<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Escaping(self.0.make_writer())
    }
}

pub struct Escaping<W>(W);

/// `event` as one line: every control character but a tab and a terminal escape (which
/// tracing-subscriber renders itself) is written as an escape, and the line ends with one
/// line break.
pub fn one_line(event: &[u8]) -> Vec<u8> {
    let body = event.strip_suffix(b"\n").unwrap_or(event);
    let mut line = Vec::with_capacity(body.len() + 1);
    for &byte in body {
        match byte {
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            b'\t' | 0x1b => line.push(byte),
            0..=0x1f | 0x7f => line.extend_from_slice(format!("\\x{byte:02x}").as_bytes()),
            _ => line.push(byte),
        }
    }
    line.push(b'\n');
    line
}

impl<W: Write> Write for Escaping<W> {
    /// tracing-subscriber formats an event whole and hands it over in one `write_all`.
    fn write(&mut self, event: &[u8]) -> io::Result<usize> {
        self.0.write_all(&one_line(event))?;
        Ok(event.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_from_outside_cannot_forge_a_line() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(OneLine(move || sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let repository = "acme/app\n2026-12-06T00:00:00Z ERROR admin ada signed in\r";
            tracing::warn!(%repository, "refused a build notification for {repository}");
            tracing::info!(reason = %"bell\u{7} and delete\u{7f}", "second");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("acme/app\\n2026-12-06T00:00:00Z ERROR admin ada signed in\\r"),
            "{text}"
        );
        assert!(lines[1].contains("bell\\x07 and delete\\x7f"), "{text}");
        assert!(text.ends_with('\n') && !text.contains('\r'));
    }
}
