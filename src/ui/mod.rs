//! Everything the user sees: the printer (quiet / normal / verbose, text or
//! JSON, colour or not), the prompts, and progress bars.

mod printer;
mod prompt;
pub mod tilde;
pub mod wrap;

pub use printer::{ColorMode, OutputOptions, Printer, Verbosity};
pub use prompt::Prompter;
