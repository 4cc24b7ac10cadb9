//! How finely the parallel loops split their work.
//!
//! A rayon loop started on a thread outside the pool hands its pieces to the pool's threads and
//! waits for them: tens of microseconds of waking and being woken, more than a small loop's work.
//! Every loop therefore sets a minimum piece size, and a loop shorter than two pieces runs on the
//! calling thread without touching the pool. That keeps the live engine's updates (a handful of
//! touchpoints, blocks and profiles each) on the caller's thread, while a batch of millions still
//! splits into thousands of pieces.

/// Items per piece for loops of cheap steps: hashing a value, preparing a touchpoint, finding
/// a root.
pub(crate) const CHEAP: usize = 512;

/// Items per piece for loops of heavy steps: a block's pairs, a profile, an identifier's
/// touchpoints.
pub(crate) const HEAVY: usize = 32;

/// Runs `a` and `b`, in parallel when `parallel` (a large step), else one after the other on
/// the calling thread.
pub(crate) fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}
