//! Progress reporting for long runs: the engine names its stages and counts work done; a CLI
//! draws a bar, a notebook a widget, and everyone else ignores it.

/// Receives progress from long operations. Calls come from the calling thread.
pub trait Progress: Sync {
    /// A new stage starts (`reading`, `normalizing`, `linking`, `profiles`, …), with the amount
    /// of work in it when known.
    fn stage(&self, name: &str, total: Option<u64>) {
        let _ = (name, total);
    }

    /// `done` more units of the current stage are finished.
    fn advance(&self, done: u64) {
        let _ = done;
    }

    /// Whether the caller wants the operation stopped (a Ctrl-C in a notebook). Operations
    /// that can stop cleanly check it between units of work and return
    /// [`Error::Cancelled`](crate::Error::Cancelled), leaving the engine as it was; the others
    /// (resolving) run to the end.
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
