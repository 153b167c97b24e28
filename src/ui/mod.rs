//! Everything the user sees: the printer (quiet / normal / verbose, text or
//! JSON, colour or not), the prompts, and progress bars.

mod escape;
pub mod pipe;
mod printer;
mod prompt;
pub mod tilde;
pub mod wrap;

pub use escape::printable;
pub use printer::{error_doc, ColorMode, OutputOptions, Printer, Verbosity};
pub use prompt::Prompter;
