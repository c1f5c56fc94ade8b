//! Progress on stderr for work that can run longer than a few seconds (a sweep, the shared
//! artifacts it trains, a scaling fit, a matchup table). On a terminal it is a bar that redraws a
//! few times a second, so its elapsed time moves even while one long step (a first unit, a training
//! run) is under way. Elsewhere (a log file, a cluster job's output) it is a plain line with the
//! count, the elapsed time and the estimate left, written when a step finishes and at most once
//! every [`LOG_EVERY`], never in the first [`LOG_EVERY`]: a long job shows that it moves, a short
//! one writes nothing.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// The least time between two progress lines when stderr is not a terminal.
pub const LOG_EVERY: Duration = Duration::from_secs(30);

/// A bar for `len` steps of `noun` (plural, "units", "starts"), labelled `prefix`, with
/// `done` steps already finished; hidden unless `show`. Drawn as a bar on a terminal and as
/// occasional plain lines otherwise.
pub fn bar(prefix: &str, len: u64, done: u64, noun: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    if std::io::stderr().is_terminal() {
        let template = format!(
            "{{prefix}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {noun} (eta {{eta}})"
        );
        let bar = styled(len, done, prefix, &template);
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    } else {
        let template =
            format!("{{prefix}}: {{pos}}/{{len}} {noun}, {{elapsed_precise}} elapsed, eta {{eta}}");
        let bar = styled(len, done, prefix, &template);
        bar.set_draw_target(ProgressDrawTarget::term_like(Box::new(LogLines::new(
            std::io::stderr(),
            LOG_EVERY,
            format!(": {len}/{len} {noun},"),
        ))));
        bar
    }
}

fn styled(len: u64, done: u64, prefix: &str, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(template).expect("progress template is valid"));
    bar.set_prefix(prefix.to_owned());
    bar.set_position(done);
    bar
}

/// A draw target that turns each redraw into one line, written only when `every` has passed since
/// it was made and since the line before; the last step's line (the one containing `finished`) is
/// written whenever `every` has passed since it was made, so a long job's log ends on its count.
struct LogLines<W> {
    out: Mutex<W>,
    every: Duration,
    finished: String,
    made: Instant,
    state: Mutex<LogState>,
}

struct LogState {
    line: String,
    last: Instant,
}

impl<W> LogLines<W> {
    fn new(out: W, every: Duration, finished: String) -> Self {
        let made = Instant::now();
        LogLines {
            out: Mutex::new(out),
            every,
            finished,
            made,
            state: Mutex::new(LogState {
                line: String::new(),
                last: made,
            }),
        }
    }
}

impl<W> std::fmt::Debug for LogLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLines")
            .field("every", &self.every)
            .finish()
    }
}

impl<W: Write + Send> TermLike for LogLines<W> {
    fn width(&self) -> u16 {
        160
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let mut state = self.state.lock().expect("progress state");
        state.line.push_str(s.trim_matches(['\r', '\n']));
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        let mut state = self.state.lock().expect("progress state");
        let line = std::mem::take(&mut state.line);
        let line = line.trim();
        let due = if line.contains(&self.finished) {
            self.made.elapsed() >= self.every
        } else {
            state.last.elapsed() >= self.every
        };
        if line.is_empty() || !due {
            return Ok(());
        }
        state.last = Instant::now();
        let mut out = self.out.lock().expect("progress output");
        writeln!(out, "{line}")?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_bar_not_asked_for_is_hidden() {
        assert!(super::bar("x", 10, 0, "units", false).is_hidden());
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(every: Duration, steps: u64) -> String {
        logged_after(every, steps, Duration::ZERO)
    }

    /// `steps` steps, the last one `pause` after the others.
    fn logged_after(every: Duration, steps: u64, pause: Duration) -> String {
        let out = Shared::default();
        let bar = styled(
            steps,
            0,
            "sweep",
            "{prefix}: {pos}/{len} units, {elapsed_precise} elapsed",
        );
        bar.set_draw_target(ProgressDrawTarget::term_like(Box::new(LogLines::new(
            out.clone(),
            every,
            format!(": {steps}/{steps} units,"),
        ))));
        for step in 0..steps {
            if step + 1 == steps {
                std::thread::sleep(pause);
            }
            bar.inc(1);
        }
        drop(bar);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn off_a_terminal_each_finished_step_is_a_plain_line_once_the_interval_has_passed() {
        let text = logged(Duration::ZERO, 3);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.contains(&"sweep: 3/3 units, 00:00:00 elapsed"),
            "{text:?}"
        );
        assert!(lines.iter().all(|l| l.starts_with("sweep: ")), "{text:?}");
        assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text:?}");
    }

    #[test]
    fn off_a_terminal_a_job_shorter_than_the_interval_writes_nothing() {
        assert_eq!(logged(Duration::from_secs(3600), 5), "");
    }

    #[test]
    fn off_a_terminal_the_last_step_is_written_once_the_job_has_run_the_interval() {
        // Interval 50 ms: the last step, at least 60 ms in, is written even if the line before it
        // was written less than 50 ms earlier (or not at all).
        let text = logged_after(Duration::from_millis(50), 3, Duration::from_millis(60));
        assert!(
            text.ends_with("sweep: 3/3 units, 00:00:00 elapsed\n"),
            "{text:?}"
        );
    }
}
