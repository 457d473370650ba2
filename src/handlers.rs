//! The step handlers the binary runs with: every handler `nagare-steps` implements.

use nagare_engine::runtime::HandlerRegistry;

/// Returns the registry of every implemented step handler.
pub fn registry() -> HandlerRegistry {
    nagare_steps::handlers::registry()
}
