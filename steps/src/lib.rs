//! Municipal domain of nagare: the rules that decide how much a person pays and when
//! (`domain`), the files exchanged with banks, payment agents, pension insurers and the
//! 広域連合 (`formats`), and the step handlers that the engine dispatches.

pub mod domain;
pub mod formats;
#[cfg(feature = "handlers")]
pub mod handlers;
pub mod notices;
