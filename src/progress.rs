//! Progress of a run's stages, for people watching a terminal. The library only says
//! what it is doing; the CLI draws it (indicatif), and nothing is drawn when stderr is
//! not a terminal or `--quiet` is given. Progress carries counts, never data.

/// Told as a run goes: a stage starts (with a total when one is known), advances,
/// finishes.
pub trait Progress: Sync {
    fn start(&self, stage: &'static str, total: Option<u64>);
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// Progress that is not shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &'static str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
