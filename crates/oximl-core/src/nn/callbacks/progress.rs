//! Keras' progress display: `verbose=1` a per-step bar with ETA (redrawn at most every 50 ms, only on a
//! terminal; elsewhere one final bar line per epoch), `verbose=2` one line per epoch.

use crate::Result;
use crate::nn::{Callback, Control, Logs, Plan, Sequential};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How much `fit` prints, as Keras' `verbose`: in JSON `0`, `1`, `2` or `"auto"` (`false`/`true` read as 0/2).
///
/// ```
/// use oximl_core::nn::Verbosity;
/// let v: Vec<Verbosity> = serde_json::from_str(r#"[0, 1, 2, "auto", true]"#).unwrap();
/// assert_eq!(v, [Verbosity::Silent, Verbosity::Bar, Verbosity::Line, Verbosity::Auto, Verbosity::Line]);
/// assert!(serde_json::from_str::<Verbosity>("3").is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing (the core's default).
    #[default]
    Silent,
    /// The bar when standard output is a terminal, else nothing (Python's default, Keras' `"auto"`).
    Auto,
    /// `1`: a per-step progress bar with ETA.
    Bar,
    /// `2`: one line per epoch.
    Line,
}

impl Serialize for Verbosity {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Verbosity::Auto => s.serialize_str("auto"),
            Verbosity::Silent => s.serialize_u8(0),
            Verbosity::Bar => s.serialize_u8(1),
            Verbosity::Line => s.serialize_u8(2),
        }
    }
}

impl<'de> Deserialize<'de> for Verbosity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Level(u64),
            Name(String),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(false) | Raw::Level(0) => Ok(Verbosity::Silent),
            Raw::Level(1) => Ok(Verbosity::Bar),
            Raw::Flag(true) | Raw::Level(2) => Ok(Verbosity::Line),
            Raw::Name(n) if n == "auto" => Ok(Verbosity::Auto),
            _ => Err(serde::de::Error::custom("verbose must be 0, 1, 2 or \"auto\"")),
        }
    }
}

/// Keras' `ProgbarLogger` writing to `out`.
pub(crate) struct Progress {
    line: bool,
    /// Redraw the bar in place (a terminal); else only the epoch's final line.
    dynamic: bool,
    out: Box<dyn Write + Send>,
    plan: Plan,
    started: Instant,
    drawn: Option<Instant>,
}

/// Redraws of the bar are at least this far apart, as Keras' `interval`.
const INTERVAL: Duration = Duration::from_millis(50);
const WIDTH: usize = 20;

impl Progress {
    /// The display `verbose` asks for on standard output, or none.
    pub(crate) fn stdout(verbose: Verbosity) -> Option<Progress> {
        let tty = std::io::stdout().is_terminal();
        match verbose {
            Verbosity::Silent => None,
            Verbosity::Auto if !tty => None,
            Verbosity::Auto | Verbosity::Bar => Some(Progress::new(false, tty, Box::new(std::io::stdout()))),
            Verbosity::Line => Some(Progress::new(true, false, Box::new(std::io::stdout()))),
        }
    }

    pub(crate) fn new(line: bool, dynamic: bool, out: Box<dyn Write + Send>) -> Progress {
        let plan = Plan { initial_epoch: 0, epochs: 0, steps: 0 };
        Progress { line, dynamic, out, plan, started: Instant::now(), drawn: None }
    }

    fn values(logs: &[(&str, f64)]) -> String {
        let mut s = String::new();
        for (k, v) in logs {
            if v.abs() > 1e-3 || *v == 0.0 || !v.is_finite() {
                s.push_str(&format!(" - {k}: {v:.4}"));
            } else {
                s.push_str(&format!(" - {k}: {v:.4e}"));
            }
        }
        s
    }

    fn bar(&self, done: usize) -> String {
        let steps = self.plan.steps.max(1);
        let filled = (WIDTH * done / steps).min(WIDTH);
        format!("{}{}", "━".repeat(filled), " ".repeat(WIDTH - filled))
    }

    fn per_step(&self, done: usize) -> String {
        let per = self.started.elapsed().as_secs_f64() / done.max(1) as f64;
        if per >= 1.0 { format!("{per:.0}s/step") } else { format!("{:.0}ms/step", per * 1e3) }
    }

    fn draw(&mut self, text: &str) {
        // Progress is best effort: a closed stdout must not stop training.
        let _ = self.out.write_all(text.as_bytes()).and_then(|()| self.out.flush());
    }
}

impl Callback for Progress {
    fn on_train_begin(&mut self, plan: &Plan) -> Result<()> {
        self.plan = *plan;
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, _model: &mut Sequential) -> Result<Control> {
        self.started = Instant::now();
        self.drawn = None;
        if self.plan.epochs > 1 {
            self.draw(&format!("Epoch {}/{}\n", epoch + 1, self.plan.epochs));
        }
        Ok(Control::Continue)
    }

    fn on_batch_end(&mut self, _epoch: usize, batch: usize, loss: f64) -> Result<Control> {
        let now = Instant::now();
        if self.line || !self.dynamic || self.drawn.is_some_and(|t| now - t < INTERVAL) {
            return Ok(Control::Continue);
        }
        self.drawn = Some(now);
        let (done, steps) = (batch + 1, self.plan.steps);
        let eta = self.started.elapsed().as_secs_f64() / done as f64 * steps.saturating_sub(done) as f64;
        let width = steps.to_string().len();
        let text = format!(
            "\r{done:>width$}/{steps} {} {eta:.0}s {}{}\x1b[K",
            self.bar(done),
            self.per_step(done),
            Progress::values(&[("loss", loss)])
        );
        self.draw(&text);
        Ok(Control::Continue)
    }

    fn on_epoch_end(&mut self, _epoch: usize, logs: &mut Logs, _model: &mut Sequential) -> Result<Control> {
        let steps = self.plan.steps;
        let seconds = self.started.elapsed().as_secs_f64();
        let values: Vec<(&str, f64)> = logs.0.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let values = Progress::values(&values);
        let text = if self.line {
            format!("{steps}/{steps} - {seconds:.0}s - {}{values}\n", self.per_step(steps))
        } else {
            let start = if self.dynamic { "\r" } else { "" };
            format!("{start}{steps}/{steps} {} {seconds:.0}s {}{values}\x1b[K\n", self.bar(steps), self.per_step(steps))
        };
        self.draw(&if self.dynamic { text } else { text.replace("\x1b[K", "") });
        Ok(Control::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(line: bool, dynamic: bool, steps: usize) -> String {
        let out = Shared::default();
        let mut p = Progress::new(line, dynamic, Box::new(out.clone()));
        let mut model = Sequential::new(1);
        p.on_train_begin(&Plan { initial_epoch: 0, epochs: 2, steps }).unwrap();
        let mut logs = Logs::default();
        logs.push("loss", 0.25);
        logs.push("val_loss", 0.00012);
        for epoch in 0..2 {
            p.on_epoch_begin(epoch, &mut model).unwrap();
            for b in 0..steps {
                p.on_batch_end(epoch, b, 0.5).unwrap();
            }
            p.on_epoch_end(epoch, &mut logs, &mut model).unwrap();
        }
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn line_mode_prints_one_line_per_epoch() {
        let text = run(true, false, 1000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "Epoch 1/2");
        assert!(
            lines[1].starts_with("1000/1000 - 0s - ") && lines[1].ends_with(" - loss: 0.2500 - val_loss: 1.2000e-4")
        );
        assert!(!text.contains('\r') && !text.contains('━'));
    }

    #[test]
    fn bar_redraws_are_rate_limited_on_a_terminal() {
        let text = run(false, true, 100_000);
        // 100 000 fast steps per epoch: one redraw, then none within 50 ms (not one per step).
        let redraws = text.matches('\r').count();
        assert!((4..200).contains(&redraws), "{redraws} redraws");
        assert!(text.contains("100000/100000 ━━━━━━━━━━━━━━━━━━━━ 0s "));
        assert!(text.contains(" - loss: 0.5000"));
    }

    #[test]
    fn bar_off_a_terminal_prints_only_the_final_line() {
        let text = run(false, false, 10);
        assert!(!text.contains('\r') && !text.contains('\x1b'));
        assert_eq!(text.lines().filter(|l| l.starts_with("10/10 ━━━━")).count(), 2, "{text}");
    }
}
