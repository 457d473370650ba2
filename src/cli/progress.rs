//! Progress of long operations on stderr. indicatif draws only when stderr is a terminal,
//! so pipes, log files and CI output never see a control character from here.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner with a running count: for work whose total is not known in advance (the
/// worker does not know how many items will become runnable while it works).
pub struct Progress(ProgressBar);

impl Progress {
    /// Starts a spinner that shows `what` and the elapsed time.
    pub fn spinner(what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(bar)
    }

    /// Replaces the text after the prefix (counts, the current phase).
    pub fn show(&self, message: impl Into<String>) {
        self.0.set_message(message.into());
    }

    /// Removes the spinner from the terminal; what is printed afterwards stays.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
