//! Progress bars on stderr for work that can run longer than a few seconds (a sweep, the shared
//! artifacts it trains, a scaling fit, a matchup table). A bar is drawn only when asked for and
//! when stderr is a terminal, so logs and pipes stay clean; it redraws a few times a second, so
//! its elapsed time moves even while one long step (a first unit, a training run) is under way.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `len` steps of `noun` (plural, "units", "starts"), labelled `prefix`, with
/// `done` steps already finished; hidden unless `show` and stderr is a terminal.
pub fn bar(prefix: &str, len: u64, done: u64, noun: &str, show: bool) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = format!(
        "{{prefix}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {noun} (eta {{eta}})"
    );
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(&template).expect("progress template is valid"));
    bar.set_prefix(prefix.to_owned());
    bar.set_position(done);
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bar_not_asked_for_is_hidden() {
        assert!(super::bar("x", 10, 0, "units", false).is_hidden());
    }
}
