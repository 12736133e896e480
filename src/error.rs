//! The one error type of the tool.
